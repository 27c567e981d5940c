import { describe, expect, it } from 'vitest'
import { createGeminiDecoder } from '../../../src/providers/gemini/decoder'
import { decodeAll, decodeAtEverySplit } from '../../helpers/decode'

/**
 * Built from the documented `streamGenerateContent?alt=sse` format: thought summaries are parts
 * with `thought: true` (when `includeThoughts` is set), a function call is a whole part
 * (`functionCall` with `name`, `args` and, on newer models, `id`), and the finish reason of a
 * turn that calls functions is `STOP`.
 */
const event = (parts: object[], extra: object = {}, usage: object = {}) =>
  `data: ${JSON.stringify({
    candidates: [{ content: { parts, role: 'model' }, index: 0, ...extra }],
    usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 20, totalTokenCount: 32, ...usage },
    modelVersion: 'gemini-2.5-flash',
  })}\r\n\r\n`

describe('Gemini decoder: thoughts and function calls', () => {
  it('yields thought parts as reasoning, then the text, with thinking tokens counted as completion', () => {
    const body =
      event([{ text: '**Weighing it**\nThe user wants a haiku.', thought: true }], {}, { thoughtsTokenCount: 40 }) +
      event([{ text: 'Autumn moonlight—' }], {}, { thoughtsTokenCount: 40 }) +
      event(
        [{ text: '\na worm digs silently' }],
        { finishReason: 'STOP' },
        { thoughtsTokenCount: 40, totalTokenCount: 72 },
      )
    expect(decodeAtEverySplit(createGeminiDecoder, body)).toEqual([
      { type: 'reasoning', text: '**Weighing it**\nThe user wants a haiku.' },
      { type: 'text', text: 'Autumn moonlight—\na worm digs silently' },
      { type: 'usage', usage: { prompt_tokens: 12, completion_tokens: 60, total_tokens: 72, reasoning_tokens: 40 } },
      { type: 'done', finishReason: 'stop' },
    ])
  })

  it('yields parallel function calls as whole tool calls, numbered in order, and finishes with tool_calls', () => {
    const body = event(
      [
        { functionCall: { id: 'fc_1', name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'CiQB0e2Kb' },
        { functionCall: { id: 'fc_2', name: 'get_weather', args: { city: 'Rome' } } },
      ],
      { finishReason: 'STOP' },
    )
    const events = decodeAtEverySplit(createGeminiDecoder, body)
    expect(events.slice(0, 2)).toEqual([
      { type: 'tool_call', index: 0, id: 'fc_1', name: 'get_weather', argumentsDelta: '{"city":"Paris"}' },
      { type: 'tool_call', index: 1, id: 'fc_2', name: 'get_weather', argumentsDelta: '{"city":"Rome"}' },
    ])
    expect(events.at(-1)).toEqual({ type: 'done', finishReason: 'tool_calls' })
  })

  it('gives calls without an id (older models) one, and numbers calls across chunks', () => {
    const body =
      event([{ text: 'Let me check.' }]) +
      event([{ functionCall: { name: 'now', args: {} } }]) +
      event([{ functionCall: { name: 'today' } }], { finishReason: 'STOP' })
    const calls = decodeAll(createGeminiDecoder, [new TextEncoder().encode(body)]).filter((e) => e.type === 'tool_call')
    expect(calls).toEqual([
      { type: 'tool_call', index: 0, id: expect.stringMatching(/^call_/), name: 'now', argumentsDelta: '{}' },
      { type: 'tool_call', index: 1, id: expect.stringMatching(/^call_/), name: 'today', argumentsDelta: '{}' },
    ])
  })
})
