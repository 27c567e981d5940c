import { describe, expect, it } from 'vitest'
import { createOpenAIDecoder } from '../../../src/providers/openai/decoder'
import { decodeAll, mergeText as normalise } from '../../helpers/decode'
import { openAIRecordings } from '../../helpers/fixtures'
import { random, randomOffsets, splitAt } from '../../helpers/split'

const decode = (pieces: Uint8Array[]) => decodeAll(createOpenAIDecoder, pieces)

/**
 * An oracle independent of the decoder: the text, finish reason and usage read straight from the
 * recording's JSON lines, with no SSE parser involved.
 */
function expectedFrom(recording: string) {
  const chunks = recording
    .split('\n')
    .filter((line) => line.startsWith('data: {'))
    .map((line) => JSON.parse(line.slice(6)))
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? c.choices[0]?.delta?.refusal ?? '').join('')
  const finish = chunks.map((c) => c.choices[0]?.finish_reason).find(Boolean)
  const usage = chunks.find((c) => c.usage)?.usage
  return { text, finish, usage }
}

const utf8 = new TextEncoder()

describe('OpenAI decoder on the recorded streams', () => {
  for (const [name, recording] of Object.entries(openAIRecordings)) {
    describe(name, () => {
      const whole = decode([utf8.encode(recording)])

      it('yields the recorded text, usage, then done with the finish reason', () => {
        const expected = expectedFrom(recording)
        expect(expected.text.length).toBeGreaterThan(0)
        const events = normalise(whole)
        expect(events).toEqual([
          { type: 'text', text: expected.text },
          { type: 'usage', usage: expected.usage },
          { type: 'done', finishReason: expected.finish },
        ])
      })

      it('yields the same events however the bytes are split (every single offset)', () => {
        const bytes = utf8.encode(recording)
        for (let offset = 1; offset < bytes.length; offset++) {
          expect(normalise(decode(splitAt(bytes, [offset])))).toEqual(normalise(whole))
        }
      })

      it('yields the same events one byte at a time and at random offsets', () => {
        const bytes = utf8.encode(recording)
        const oneByOne = Array.from(bytes, (byte) => Uint8Array.of(byte))
        expect(normalise(decode(oneByOne))).toEqual(normalise(whole))
        const next = random(name.length)
        for (let round = 0; round < 200; round++) {
          const pieces = splitAt(bytes, randomOffsets(bytes.length, 1 + Math.floor(next() * 20), next))
          expect(normalise(decode(pieces))).toEqual(normalise(whole))
        }
      })

      it('reads CRLF line endings the same, split between every CR and LF', () => {
        const crlf = utf8.encode(recording.replaceAll('\n', '\r\n'))
        const crOffsets = crlf.reduce<number[]>((acc, byte, i) => (byte === 13 ? [...acc, i + 1] : acc), [])
        expect(crOffsets.length).toBeGreaterThan(10)
        expect(normalise(decode(splitAt(crlf, crOffsets)))).toEqual(normalise(whole))
      })
    })
  }
})

describe('OpenAI decoder on cases the recordings lack', () => {
  const chunk = (content: string) =>
    `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`
  const finish = `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'length' }] })}\n\n`

  it('keeps multi-byte characters whole when a split falls inside one', () => {
    const text = 'héllo 世界 🧪 done'
    const body = utf8.encode(chunk(text) + finish + 'data: [DONE]\n\n')
    for (let offset = 1; offset < body.length; offset++) {
      expect(normalise(decode(splitAt(body, [offset])))[0]).toEqual({ type: 'text', text })
    }
  })

  it('turns a body that ends without [DONE] or a finish reason into upstream_truncated', () => {
    const events = decode([utf8.encode(chunk('partial'))])
    expect(events.at(-1)).toMatchObject({ type: 'error', code: 'upstream_truncated', retryable: true })
    expect(events.some((e) => e.type === 'done')).toBe(false)
  })

  it('treats a clean end after a finish reason as complete (servers that omit [DONE])', () => {
    expect(decode([utf8.encode(chunk('all') + finish)]).at(-1)).toEqual({ type: 'done', finishReason: 'length' })
  })

  it('does not count a cut-off final chunk as complete', () => {
    const body = chunk('fine') + finish.slice(0, 40)
    expect(decode([utf8.encode(body)]).at(-1)).toMatchObject({ type: 'error' })
  })

  it('maps an upstream error payload mid-stream to a retryable error and stops there', () => {
    const error = `data: ${JSON.stringify({ error: { message: 'Overloaded', type: 'server_error' } })}\n\n`
    const events = decode([utf8.encode(chunk('a') + error + chunk('after'))])
    expect(events).toEqual([
      { type: 'text', text: 'a' },
      {
        type: 'error',
        code: 'upstream_error',
        message: 'The model provider failed while answering; asking again may work.',
        retryable: true,
      },
    ])
  })

  it('reports malformed JSON as upstream_malformed', () => {
    expect(decode([utf8.encode('data: {"choices": [\n\n')]).at(-1)).toMatchObject({ code: 'upstream_malformed' })
  })

  it('refuses to buffer an event that never ends', () => {
    const decoder = createOpenAIDecoder()
    const megabyte = utf8.encode(`data: "${'x'.repeat(600_000)}`)
    expect(decoder.decode(megabyte)).toEqual([])
    expect(decoder.decode(megabyte).at(-1)).toMatchObject({ code: 'upstream_malformed' })
  })

  it('ignores comments and blank keep-alive lines', () => {
    const body = ': keep-alive\n\n\n\n' + chunk('x') + ': ping\n\n' + finish + 'data: [DONE]\n\n'
    expect(decode([utf8.encode(body)])).toEqual([
      { type: 'text', text: 'x' },
      { type: 'done', finishReason: 'length' },
    ])
  })
})
