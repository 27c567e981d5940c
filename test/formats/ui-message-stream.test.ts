import type { UIMessage } from 'ai'
import { describe, expect, it } from 'vitest'
import type { ErrorEventData } from '../../src/events/chat-events'
import type { StoredEvent } from '../../src/events/stored-event'
import { uiMessageStreamFormat } from '../../src/formats/ui-message-stream'
import { eventRecordFormat, parseRecords } from '../../src/streams/record-format'
import { parseEventStream } from '../helpers/sse'
import { parseWithTransport, reasoningOfMessage, textOfMessage } from '../helpers/ui-stream'

const format = eventRecordFormat()
const usage = { prompt_tokens: 4, completion_tokens: 9, total_tokens: 13 }

/** A stored log as the pipeline writes it: thinking, text with characters JSON must escape, thinking again, text. */
function storedLog(end: string): StoredEvent[] {
  const records =
    format.start({ id: 'msg_abc', model: 'chat', upstream: 'chat-fallback', created: 1 }) +
    format.reasoning('Let me ') +
    format.reasoning('think.') +
    format.text('Hello') +
    format.text(', "world"\n\t\\ ✓ 😀') +
    format.reasoning('Once more.') +
    format.text(' Done.') +
    end
  return parseRecords(records).map((record, index) => ({ ...record, id: index + 1 }))
}

const finished = () => storedLog(format.usage(usage) + format.done('stop'))
const failed = (error: ErrorEventData) => storedLog(format.error(error))

/** What a reader starting after `afterId` is sent: the encoder's preamble, then the rest, a batch at a time. */
function encodeFrom(events: StoredEvent[], afterId: number, batch = events.length): string {
  const resumedAfter = afterId > 0 ? JSON.parse(events[0]!.data) : undefined
  const encoder = uiMessageStreamFormat.replay({ retryMs: 0, resumedAfter })
  let out = encoder.preamble
  const rest = events.slice(afterId)
  for (let i = 0; i < rest.length; i += batch) out += encoder.encode(rest.slice(i, i + batch))
  return out
}

const lastText = (message: UIMessage | undefined) => message?.parts.findLast((p) => p.type === 'text')

const textAfter = (events: StoredEvent[], afterId: number, kind = 'delta') =>
  events
    .slice(afterId)
    .filter((e) => e.event === kind)
    .map((e) => (JSON.parse(e.data) as { text: string }).text)
    .join('')

describe('the UI message stream encoder, read by the real AI SDK (ai 7.0.173)', () => {
  it('from the start: start, steps, parts per switch, finish with the reason and usage, then [DONE]', async () => {
    const events = finished()
    const body = encodeFrom(events, 0)
    const { chunks, message, error } = await parseWithTransport(body)
    expect(error).toBeUndefined()
    expect(chunks.map((c) => c.type)).toEqual([
      'start',
      'start-step',
      'reasoning-start',
      'reasoning-delta',
      'reasoning-delta',
      'reasoning-end',
      'text-start',
      'text-delta',
      'text-delta',
      'text-end',
      'reasoning-start',
      'reasoning-delta',
      'reasoning-end',
      'text-start',
      'text-delta',
      'text-end',
      'finish-step',
      'finish',
    ])
    expect(chunks.at(-1)).toEqual({ type: 'finish', finishReason: 'stop', messageMetadata: { usage } })
    expect(message!.id).toBe('msg_abc')
    expect(message!.metadata).toEqual({ model: 'chat', upstream: 'chat-fallback', usage })
    expect(textOfMessage(message)).toBe('Hello, "world"\n\t\\ ✓ 😀 Done.')
    expect(reasoningOfMessage(message)).toBe('Let me think.Once more.')
    expect(message!.parts.every((p) => !('state' in p) || p.state === 'done')).toBe(true)
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true)
  })

  it('from every event id: a sequence the SDK accepts from an empty state, with exactly the rest of the answer', async () => {
    const events = finished()
    for (let afterId = 0; afterId < events.length; afterId++) {
      for (const batch of [1, 3, events.length]) {
        const { chunks, message, error } = await parseWithTransport(encodeFrom(events, afterId, batch))
        expect(error, `after ${afterId}`).toBeUndefined()
        expect(chunks[0], `after ${afterId}`).toMatchObject({ type: 'start', messageId: 'msg_abc' })
        expect(chunks.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' })
        expect(textOfMessage(message)).toBe(textAfter(events, afterId))
        expect(reasoningOfMessage(message)).toBe(textAfter(events, afterId, 'reasoning'))
      }
    }
  })

  it('puts each event’s id on its last chunk, so Last-Event-ID resumes right after it', () => {
    const events = finished()
    for (let afterId = 0; afterId < events.length; afterId++) {
      const ids = parseEventStream(encodeFrom(events, afterId))
        .events.map((e) => e.id)
        .filter((id) => id !== undefined)
        .map(Number)
      // `usage` writes nothing of its own (it rides on `finish`), so its id never shows alone.
      const expected = events.slice(afterId).filter((e) => e.event !== 'usage')
      expect(ids).toEqual(expected.map((e) => e.id))
    }
  })

  it('a failure is the SDK’s error, never a finish, from every event id', async () => {
    const events = failed({ code: 'upstream_truncated', message: 'The upstream stopped early.', retryable: true })
    for (let afterId = 0; afterId < events.length; afterId++) {
      const body = encodeFrom(events, afterId)
      const { chunks, message, error } = await parseWithTransport(body)
      expect(error?.message).toBe('The upstream stopped early.')
      expect(chunks.some((c) => c.type === 'finish' || c.type === 'finish-step')).toBe(false)
      // The part the failure cut into is left streaming: nothing says it is whole.
      expect(lastText(message)?.state ?? 'streaming').toBe('streaming')
      expect(
        body.endsWith('data: {"type":"error","errorText":"The upstream stopped early."}\n\ndata: [DONE]\n\n'),
      ).toBe(true)
    }
  })

  it('a stop (cancelled) is the protocol’s abort: no error, no finish, the text left unfinished', async () => {
    const events = failed({ code: 'cancelled', message: 'The answer was stopped.', retryable: false })
    for (let afterId = 0; afterId < events.length; afterId++) {
      const { chunks, message, error } = await parseWithTransport(encodeFrom(events, afterId))
      expect(error).toBeUndefined()
      expect(chunks.at(-1)).toEqual({ type: 'abort', reason: 'The answer was stopped.' })
      expect(chunks.some((c) => c.type === 'finish')).toBe(false)
      expect(textOfMessage(message)).toBe(textAfter(events, afterId))
      expect(lastText(message)?.state ?? 'streaming').toBe('streaming')
    }
  })

  it('maps every finish reason to the SDK’s spelling', async () => {
    const reasons = { stop: 'stop', length: 'length', content_filter: 'content-filter', unknown: 'other' } as const
    for (const [ours, theirs] of Object.entries(reasons)) {
      const events = storedLog(format.done(ours as keyof typeof reasons))
      const { chunks, error } = await parseWithTransport(encodeFrom(events, 0))
      expect(error).toBeUndefined()
      expect(chunks.at(-1)).toEqual({ type: 'finish', finishReason: theirs })
    }
  })
})
