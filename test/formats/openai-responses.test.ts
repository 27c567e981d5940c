import { accumulateResponse } from 'openai/lib/responses/ResponseAccumulator'
import type { Response, ResponseStreamEvent } from 'openai/resources/responses/responses'
import { describe, expect, it } from 'vitest'
import type { LiveEncoder } from '../../src/events/encoders'
import type { StoredEvent } from '../../src/events/stored-event'
import { replayEncoder } from '../../src/formats'
import { openAIResponsesFormat, responseSnapshot } from '../../src/dialects/responses/format'
import { eventRecordFormat, parseRecords } from '../../src/streams/record-format'

const start = { id: 'resp_abc', model: 'm', upstream: 'm', created: 7 }
const usage = { prompt_tokens: 4, completion_tokens: 9, total_tokens: 13, reasoning_tokens: 2 }

type Answer = (e: LiveEncoder) => string[]
const withTools: Answer = (e) => [
  e.start(start),
  e.reasoning('Think'),
  e.reasoning('ing.'),
  e.text('Hello'),
  e.text(', world'),
  e.toolCall({ index: 0, id: 'call_1', name: 'lookup', argumentsDelta: '' }),
  e.toolCall({ index: 0, argumentsDelta: '{"q":' }),
  e.toolCall({ index: 1, id: 'call_2', name: 'other', argumentsDelta: '{}' }),
  e.toolCall({ index: 0, argumentsDelta: '"x"}' }),
  e.usage(usage),
  e.done('tool_calls'),
]
const cut: Answer = (e) => [
  e.start(start),
  e.text('Half an'),
  e.error({ code: 'upstream_truncated', message: 'The model provider ended the stream early.', retryable: true }),
]

/** The SSE text as the events a client parses. */
function parse(sse: string): ResponseStreamEvent[] {
  return sse
    .split('\n\n')
    .filter((block) => block.includes('data: '))
    .map((block) => {
      const [eventLine, dataLine] = block.split('\n')
      const event = JSON.parse(dataLine!.slice('data: '.length)) as ResponseStreamEvent
      // The `event:` field always names the type the data carries.
      expect(eventLine).toBe(`event: ${event.type}`)
      return event
    })
}

const live = (answer: Answer) => answer(openAIResponsesFormat.live({ retryMs: 0 })).join('')
const stored = (answer: Answer): StoredEvent[] =>
  parseRecords(answer(eventRecordFormat()).join('')).map((r, i) => ({ ...r, id: i + 1 }))

/** What the `openai` SDK makes of a stream: it throws on anything out of place (ids, indexes, types). */
function accumulate(events: ResponseStreamEvent[]): Response {
  let snapshot: Response | undefined
  for (const event of events) snapshot = accumulateResponse(event, snapshot as Response)
  return snapshot!
}

describe('the openai-responses format', () => {
  it('numbers its events from 0 without gaps, and the SDK accumulates them to the whole answer', () => {
    const events = parse(live(withTools))
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i))
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.reasoning_text.delta',
      'response.reasoning_text.delta',
      'response.reasoning_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ])
    const final = accumulate(events)
    expect(final).toMatchObject({
      id: 'resp_abc',
      status: 'completed',
      usage: { input_tokens: 4, output_tokens: 9, total_tokens: 13, output_tokens_details: { reasoning_tokens: 2 } },
    })
    expect(final.output).toMatchObject([
      { type: 'reasoning', content: [{ type: 'reasoning_text', text: 'Thinking.' }] },
      { type: 'message', status: 'completed', content: [{ type: 'output_text', text: 'Hello, world' }] },
      { type: 'function_call', call_id: 'call_1', name: 'lookup', arguments: '{"q":"x"}', status: 'completed' },
      { type: 'function_call', call_id: 'call_2', name: 'other', arguments: '{}' },
    ])
    // The last event's response is the whole answer by itself, as a client that reads only it sees.
    expect((events.at(-1) as { response: Response }).response.output).toEqual(final.output)
  })

  it('ends a length stop as incomplete with max_output_tokens, never completed', () => {
    const events = parse(live((e) => [e.start(start), e.text('Long'), e.done('length')]))
    expect(events.at(-1)).toMatchObject({
      type: 'response.incomplete',
      response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } },
    })
    expect(events.some((e) => e.type === 'response.completed')).toBe(false)
  })

  it('ends a broken answer as failed with our code, leaving its open item incomplete', () => {
    const events = parse(live(cut))
    expect(events.at(-1)).toMatchObject({
      type: 'response.failed',
      response: {
        status: 'failed',
        error: { code: 'upstream_truncated' },
        output: [{ type: 'message', status: 'incomplete', content: [{ text: 'Half an' }] }],
      },
    })
    expect(events.some((e) => e.type === 'response.completed' || e.type === 'response.output_text.done')).toBe(false)
    expect(accumulate(events).status).toBe('failed')
  })

  it('ends a stopped answer with status cancelled', () => {
    const events = parse(
      live((e) => [
        e.start(start),
        e.error({ code: 'cancelled', message: 'The answer was stopped.', retryable: false }),
      ]),
    )
    expect(events.at(-1)).toMatchObject({ type: 'response.failed', response: { status: 'cancelled' } })
  })

  it.each([0, 5, 13, 24])('replays after sequence number %i with the original numbers', (after) => {
    const encoder = replayEncoder({ name: 'openai-responses', options: { startingAfter: after } }, { retryMs: 0 })
    const replayed = parse(encoder.preamble + encoder.encode(stored(withTools)))
    const all = parse(live(withTools))
    expect(replayed).toEqual(all.slice(after + 1))
  })

  it('repeats the request’s settings in every response object', () => {
    const echo = { instructions: 'Be brief.', store: true, background: true, metadata: { a: '1' } }
    const events = parse(withTools(openAIResponsesFormat.live({ retryMs: 0, echo })).join(''))
    expect(events[0]).toMatchObject({ response: echo })
    expect(events.at(-1)).toMatchObject({ response: echo })
  })

  it('gives the response as it stands from stored events, mid-answer and ended', () => {
    const events = stored(withTools)
    expect(responseSnapshot(events.slice(0, 4), {})).toMatchObject({
      status: 'in_progress',
      output: [{ type: 'reasoning' }, { type: 'message', status: 'in_progress', content: [{ text: 'Hello' }] }],
    })
    expect(responseSnapshot(events, {})).toEqual((parse(live(withTools)).at(-1) as { response: Response }).response)
    expect(responseSnapshot(stored(cut), {})).toMatchObject({ status: 'failed', error: { code: 'upstream_truncated' } })
    expect(responseSnapshot([], {})).toBeUndefined()
  })
})
