import { describe, expect, it } from 'vitest'
import { createOpenAIDecoder } from '../../../src/providers/openai/decoder'
import { decodeAll, decodeAtEverySplit, joinToolCalls } from '../../helpers/decode'

/**
 * Tool calls and reasoning as OpenAI-compatible servers stream them, built from the documented
 * formats (no recording of these is available): OpenAI's `delta.tool_calls` pieces, with `id`,
 * `type` and `name` on each call's first piece and the arguments in fragments after it, two calls
 * side by side; DeepSeek's and vLLM's `reasoning_content`; OpenRouter's and Groq's `reasoning`.
 */
const head = { id: 'chatcmpl-AbC', object: 'chat.completion.chunk', created: 1731000000, model: 'gpt-4o-2024-08-06' }
const chunk = (delta: object, finish_reason: string | null = null) =>
  `data: ${JSON.stringify({ ...head, choices: [{ index: 0, delta, logprobs: null, finish_reason }] })}\n\n`
const usage = (details?: object) =>
  `data: ${JSON.stringify({ ...head, choices: [], usage: { prompt_tokens: 80, completion_tokens: 40, total_tokens: 120, ...details } })}\n\n`
const start = (index: number, id: string, name: string) =>
  chunk({ tool_calls: [{ index, id, type: 'function', function: { name, arguments: '' } }] })
const args = (index: number, fragment: string) => chunk({ tool_calls: [{ index, function: { arguments: fragment } }] })

const parallelCalls =
  chunk({ role: 'assistant', content: null }) +
  start(0, 'call_Paris01', 'get_weather') +
  args(0, '{"ci') +
  args(0, 'ty": "Par') +
  args(0, 'is"}') +
  start(1, 'call_Rome02', 'get_weather') +
  args(1, '{"city": ') +
  args(1, '"Rome"}') +
  chunk({}, 'tool_calls') +
  usage() +
  'data: [DONE]\n\n'

describe('OpenAI decoder: tool calls', () => {
  it('yields each call’s pieces in order, id and name on the first, the same however the bytes split', () => {
    const events = decodeAtEverySplit(createOpenAIDecoder, parallelCalls)
    expect(events.filter((e) => e.type === 'tool_call')).toEqual([
      { type: 'tool_call', index: 0, id: 'call_Paris01', name: 'get_weather', argumentsDelta: '' },
      { type: 'tool_call', index: 0, argumentsDelta: '{"ci' },
      { type: 'tool_call', index: 0, argumentsDelta: 'ty": "Par' },
      { type: 'tool_call', index: 0, argumentsDelta: 'is"}' },
      { type: 'tool_call', index: 1, id: 'call_Rome02', name: 'get_weather', argumentsDelta: '' },
      { type: 'tool_call', index: 1, argumentsDelta: '{"city": ' },
      { type: 'tool_call', index: 1, argumentsDelta: '"Rome"}' },
    ])
    expect(joinToolCalls(events)).toEqual([
      { id: 'call_Paris01', name: 'get_weather', arguments: '{"city": "Paris"}' },
      { id: 'call_Rome02', name: 'get_weather', arguments: '{"city": "Rome"}' },
    ])
    expect(events.some((e) => e.type === 'text')).toBe(false)
    expect(events.at(-1)).toEqual({ type: 'done', finishReason: 'tool_calls' })
  })

  it('reports tool_calls when a named tool_choice made OpenAI say stop', () => {
    const named = start(0, 'call_1', 'lookup') + args(0, '{}') + chunk({}, 'stop') + 'data: [DONE]\n\n'
    expect(decodeAll(createOpenAIDecoder, [new TextEncoder().encode(named)]).at(-1)).toEqual({
      type: 'done',
      finishReason: 'tool_calls',
    })
  })

  it('gives an id to a call that came without one, and numbers calls that came without an index', () => {
    const bare = chunk({ tool_calls: [{ function: { name: 'a', arguments: '{"x":1}' } }] }) + chunk({}, 'tool_calls')
    const events = decodeAll(createOpenAIDecoder, [new TextEncoder().encode(bare)])
    expect(events[0]).toEqual({
      type: 'tool_call',
      index: 0,
      id: expect.stringMatching(/^call_[0-9a-f]{24}$/),
      name: 'a',
      argumentsDelta: '{"x":1}',
    })
  })

  it('keeps only the first id of a call whose server repeats it on every piece', () => {
    const repeated =
      chunk({ tool_calls: [{ index: 0, id: 'call_x', function: { name: 'f', arguments: '{"a"' } }] }) +
      chunk({ tool_calls: [{ index: 0, id: 'call_x', function: { arguments: ':1}' } }] }) +
      chunk({}, 'tool_calls')
    const events = decodeAll(createOpenAIDecoder, [new TextEncoder().encode(repeated)])
    expect(events.slice(0, 2)).toEqual([
      { type: 'tool_call', index: 0, id: 'call_x', name: 'f', argumentsDelta: '{"a"' },
      { type: 'tool_call', index: 0, argumentsDelta: ':1}' },
    ])
  })
})

describe('OpenAI decoder: reasoning', () => {
  it('yields reasoning_content (DeepSeek, vLLM) before the text, and reasoning tokens in usage', () => {
    const body =
      chunk({ role: 'assistant', content: '', reasoning_content: '' }) +
      chunk({ reasoning_content: 'The user greets me' }) +
      chunk({ reasoning_content: '; answer briefly.' }) +
      chunk({ content: 'Hello', reasoning_content: null }) +
      chunk({ content: '!' }) +
      chunk({}, 'stop') +
      usage({ completion_tokens_details: { reasoning_tokens: 31 } }) +
      'data: [DONE]\n\n'
    expect(decodeAtEverySplit(createOpenAIDecoder, body)).toEqual([
      { type: 'reasoning', text: 'The user greets me' },
      { type: 'reasoning', text: '; answer briefly.' },
      { type: 'text', text: 'Hello!' },
      { type: 'usage', usage: { prompt_tokens: 80, completion_tokens: 40, total_tokens: 120, reasoning_tokens: 31 } },
      { type: 'done', finishReason: 'stop' },
    ])
  })

  it('reads `reasoning` (OpenRouter, Groq) the same way, and reasoning between pieces of text', () => {
    const body =
      chunk({ reasoning: 'Think first.' }) +
      chunk({ content: 'Part one. ' }) +
      chunk({ reasoning: 'Think again.' }) +
      chunk({ content: 'Part two.' }) +
      chunk({}, 'stop') +
      'data: [DONE]\n\n'
    expect(decodeAtEverySplit(createOpenAIDecoder, body)).toEqual([
      { type: 'reasoning', text: 'Think first.' },
      { type: 'text', text: 'Part one. ' },
      { type: 'reasoning', text: 'Think again.' },
      { type: 'text', text: 'Part two.' },
      { type: 'done', finishReason: 'stop' },
    ])
  })
})
