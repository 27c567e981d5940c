import { describe, expect, it } from 'vitest'
import type { LiveEncoder } from '../../src/events/encoders'
import type { StoredEvent } from '../../src/events/stored-event'
import { formats, replayEncoder, type FormatName } from '../../src/formats'
import type { CommonOptions } from '../../src/formats/types'
import { eventRecordFormat, parseRecords } from '../../src/streams/record-format'

/**
 * Every wire format is written both ways, live from the pipeline and on replay from the stored
 * log: a client must get the same bytes either way, or a resumed answer would differ from one
 * read straight through.
 */

const start = { id: 'chat_1', model: 'm', upstream: 'm-fallback', created: 1 }
const usage = { prompt_tokens: 4, completion_tokens: 9, total_tokens: 13, reasoning_tokens: 2 }

/** An answer as the pipeline makes it: one call per event, through any encoder. */
type Answer = (encoder: LiveEncoder) => string[]

const finished: Answer = (e) => [
  e.start(start),
  e.reasoning('Let me think.'),
  e.reasoning('', { signature: 'c2lnbmF0dXJl' }),
  e.reasoning('', { redacted: 'ZW5jcnlwdGVk' }),
  e.text('Hello, "world"\n\t\\ ✓ 😀'),
  e.toolCall({ index: 0, id: 'call_1', name: 'lookup', argumentsDelta: '' }),
  e.toolCall({ index: 0, argumentsDelta: '{"q":"x"}' }),
  e.text(' Done.'),
  e.usage(usage),
  e.done('tool_calls'),
]
const failed: Answer = (e) => [
  e.start(start),
  e.text('Half an'),
  e.error({ code: 'upstream_error', message: 'The provider failed.', retryable: true }),
]
const stopped: Answer = (e) => [
  e.start(start),
  e.reasoning('Hmm'),
  e.error({ code: 'cancelled', message: 'The answer was stopped.', retryable: false }),
]

/** The same answer as the answer's Durable Object stores it. */
function stored(answer: Answer): StoredEvent[] {
  return parseRecords(answer(eventRecordFormat()).join('')).map((record, i) => ({ ...record, id: i + 1 }))
}

const common: CommonOptions = { retryMs: 1500 }
const options = { includeUsage: true }
const names = Object.keys(formats) as FormatName[]

describe.each(names)('the %s format', (name) => {
  const live = () => formats[name].live({ ...options, ...common })
  const replay = (afterId: number, events: StoredEvent[]) => {
    const resumedAfter = afterId > 0 ? JSON.parse(events[0]!.data) : undefined
    const encoder = replayEncoder({ name, options } as never, { ...common, resumedAfter })
    return { preamble: encoder.preamble, body: encoder.encode(events.slice(afterId)), heartbeat: encoder.heartbeat }
  }

  it.each([
    ['finished', finished],
    ['failed', failed],
    ['stopped', stopped],
  ])('writes a %s answer the same live and on replay', (_, answer) => {
    const { preamble, body } = replay(0, stored(answer))
    expect(preamble + body).toBe(answer(live()).join(''))
  })

  it('keeps idle connections alive the same way live and on replay', () => {
    expect(replay(0, stored(finished)).heartbeat).toBe(live().heartbeat())
  })

  // A format that carries no state from one event to the next resumes with exactly the rest. (Not
  // past `usage` in OpenAI's chunks, which hold it for the finish; nor the formats whose parts or
  // blocks a resumed reader opens anew, the UI message stream's and Anthropic's: the UI stream's own
  // tests cover it, and no Anthropic client resumes.)
  const endsFrom = {
    'ui-message-stream': 'data: {"type":"finish-step"}',
    'anthropic-messages': 'event: message_delta',
  } as Partial<Record<FormatName, string>>
  const resumesWithTheRest = endsFrom[name] === undefined
  it.each([1, 3, 5, 6, 8])('resumed after event %i, sends what it sent live after it', (afterId) => {
    const events = stored(finished)
    const rest = replay(afterId, events).body
    if (resumesWithTheRest) expect(rest).toBe(finished(live()).slice(afterId).join(''))
    // Whatever the format, the rest ends as the answer did live (the UI stream from its `finish-step`,
    // since the part it closes first was opened anew for this reader; Anthropic's from its `message_delta`).
    const end = finished(live()).at(-1)!
    expect(rest.endsWith(resumesWithTheRest ? end : end.slice(end.indexOf(endsFrom[name]!)))).toBe(true)
  })
})
