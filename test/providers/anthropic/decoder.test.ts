import { describe, expect, it } from 'vitest'
import { createAnthropicDecoder } from '../../../src/providers/anthropic/decoder'
import { decodeAll, mergeText as normalise } from '../../helpers/decode'
import { anthropicRecordings } from '../../helpers/fixtures'
import { random, randomOffsets, splitAt } from '../../helpers/split'

const decode = (pieces: Uint8Array[]) => decodeAll(createAnthropicDecoder, pieces)

const utf8 = new TextEncoder()

/** What the recording says, read straight from its JSON lines with no SSE parser. */
function expectedFrom(recording: string) {
  const events = recording
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice(6)))
  const text = events
    .filter((e) => e.type === 'content_block_delta' && e.delta.type === 'text_delta')
    .map((e) => e.delta.text)
    .join('')
  // Counts in message_delta are cumulative and, where given, supersede message_start's.
  const counts = [events.find((e) => e.type === 'message_start').message.usage]
  counts.push(...events.filter((e) => e.type === 'message_delta').map((e) => e.usage))
  const latest = (field: string) =>
    counts
      .map((u) => u[field])
      .filter((v) => v != null)
      .at(-1) ?? 0
  const output = latest('output_tokens')
  const stop = events.filter((e) => e.type === 'message_delta').at(-1).delta.stop_reason
  const prompt = latest('input_tokens') + latest('cache_creation_input_tokens') + latest('cache_read_input_tokens')
  return {
    text,
    pings: events.filter((e) => e.type === 'ping').length,
    usage: { prompt_tokens: prompt, completion_tokens: output, total_tokens: prompt + output },
    finishReason: (
      { end_turn: 'stop', max_tokens: 'length', tool_use: 'tool_calls', refusal: 'content_filter' } as Record<
        string,
        string
      >
    )[stop],
  }
}

describe('Anthropic decoder on the recorded streams', () => {
  for (const [name, recording] of Object.entries(anthropicRecordings)) {
    describe(name, () => {
      const whole = decode([utf8.encode(recording)])

      it('yields the text, a heartbeat per ping, usage, then done with the mapped stop reason', () => {
        const expected = expectedFrom(recording)
        const events = normalise(whole)
        expect(events.filter((e) => e.type === 'keepalive')).toHaveLength(expected.pings)
        const text = events.filter((e) => e.type === 'text').map((e) => (e as { text: string }).text)
        expect(text.join('')).toBe(expected.text)
        expect(events.slice(-2)).toEqual([
          { type: 'usage', usage: expected.usage },
          { type: 'done', finishReason: expected.finishReason },
        ])
      })

      it('yields the same events split at every byte offset, at random offsets and with CRLF', () => {
        const bytes = utf8.encode(recording)
        for (let offset = 1; offset < bytes.length; offset++) {
          expect(normalise(decode(splitAt(bytes, [offset])))).toEqual(normalise(whole))
        }
        const next = random(name.length)
        for (let round = 0; round < 100; round++) {
          const pieces = splitAt(bytes, randomOffsets(bytes.length, 1 + Math.floor(next() * 20), next))
          expect(normalise(decode(pieces))).toEqual(normalise(whole))
        }
        const crlf = utf8.encode(recording.replaceAll('\n', '\r\n'))
        const crOffsets = crlf.reduce<number[]>((acc, byte, i) => (byte === 13 ? [...acc, i + 1] : acc), [])
        expect(normalise(decode(splitAt(crlf, crOffsets)))).toEqual(normalise(whole))
      })

      it('turns the same stream cut before message_stop into upstream_truncated', () => {
        const cut = recording.slice(0, recording.lastIndexOf('event: message_stop'))
        const events = decode([utf8.encode(cut)])
        expect(events.at(-1)).toMatchObject({ type: 'error', code: 'upstream_truncated' })
        expect(events.some((e) => e.type === 'done')).toBe(false)
      })
    })
  }
})

describe('Anthropic decoder on a mid-stream error (built from the documented format)', () => {
  const recording = anthropicRecordings['basic_response.sse']!
  const beforeStop = recording.slice(0, recording.indexOf('event: content_block_stop'))
  const error = (type: string) =>
    `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type, message: 'Overloaded' } })}\n\n`

  it('ends an overloaded stream with a retryable error after the text so far', () => {
    const events = normalise(decode([utf8.encode(beforeStop + error('overloaded_error'))]))
    expect(events.filter((e) => e.type === 'text')).toEqual([{ type: 'text', text: 'Hello there!' }])
    expect(events.at(-1)).toEqual({
      type: 'error',
      code: 'upstream_overloaded',
      message: 'Overloaded',
      retryable: true,
    })
  })

  it('marks an invalid request error as not retryable', () => {
    expect(decode([utf8.encode(beforeStop + error('invalid_request_error'))]).at(-1)).toMatchObject({
      retryable: false,
    })
  })
})
