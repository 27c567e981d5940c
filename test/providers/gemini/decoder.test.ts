import { describe, expect, it } from 'vitest'
import { createGeminiDecoder } from '../../../src/providers/gemini/decoder'
import type { UpstreamEvent } from '../../../src/providers/types'
import { decodeAll } from '../../helpers/decode'
import { splitAt } from '../../helpers/split'

const decode = (pieces: Uint8Array[]) => decodeAll(createGeminiDecoder, pieces)

/**
 * No recordings of Gemini streams are available, so these are built from the documented
 * `streamGenerateContent?alt=sse` format: `data: GenerateContentResponse` events, the last with
 * `finishReason`, `usageMetadata` on every chunk, and no end marker.
 */
const utf8 = new TextEncoder()
const event = (payload: object) => `data: ${JSON.stringify(payload)}\r\n\r\n`
const chunk = (text: string, extra: object = {}) =>
  event({
    candidates: [{ content: { parts: [{ text }], role: 'model' }, index: 0, ...extra }],
    usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 4, totalTokenCount: 13 },
    modelVersion: 'gemini-2.5-flash',
  })
const answer = chunk('Hello') + chunk(', wörld 🌍') + chunk('!', { finishReason: 'STOP' })

const text = (events: UpstreamEvent[]) => events.map((e) => (e.type === 'text' ? e.text : '')).join('')

describe('Gemini decoder', () => {
  it('yields the text, then usage once and done when the body ends after a finish reason', () => {
    const events = decode([utf8.encode(answer)])
    expect(text(events)).toBe('Hello, wörld 🌍!')
    expect(events.slice(-2)).toEqual([
      { type: 'usage', usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 } },
      { type: 'done', finishReason: 'stop' },
    ])
  })

  it('yields the same however the bytes are split, inside characters and between CR and LF', () => {
    const whole = decode([utf8.encode(answer)]).filter((e) => e.type !== 'text')
    const bytes = utf8.encode(answer)
    for (let offset = 1; offset < bytes.length; offset++) {
      const events = decode(splitAt(bytes, [offset]))
      expect(text(events)).toBe('Hello, wörld 🌍!')
      expect(events.filter((e) => e.type !== 'text')).toEqual(whole)
    }
  })

  it('is cut off without a finish reason', () => {
    expect(decode([utf8.encode(chunk('Hel'))]).at(-1)).toMatchObject({ type: 'error', code: 'upstream_truncated' })
  })

  it('maps MAX_TOKENS and SAFETY, and leaves thought summaries out of the text', () => {
    expect(decode([utf8.encode(chunk('a', { finishReason: 'MAX_TOKENS' }))]).at(-1)).toEqual({
      type: 'done',
      finishReason: 'length',
    })
    const thought = event({ candidates: [{ content: { parts: [{ text: 'hmm', thought: true }, { text: 'Yes' }] } }] })
    const events = decode([utf8.encode(thought + chunk('.', { finishReason: 'SAFETY' }))])
    expect(text(events)).toBe('Yes.')
    expect(events.at(-1)).toEqual({ type: 'done', finishReason: 'content_filter' })
  })

  it('turns its JSON error shape mid-stream into an error, retryable by status', () => {
    const error = (status: string) => event({ error: { code: 503, message: 'The model is overloaded.', status } })
    expect(decode([utf8.encode(chunk('a') + error('UNAVAILABLE'))]).at(-1)).toEqual({
      type: 'error',
      code: 'upstream_error',
      message: 'The model provider failed while answering; asking again may work.',
      retryable: true,
    })
    // A request it found wrong keeps its reason, in our words first.
    expect(decode([utf8.encode(error('INVALID_ARGUMENT'))]).at(-1)).toMatchObject({
      message: 'The model provider rejected the request: The model is overloaded.',
      retryable: false,
    })
  })
})
