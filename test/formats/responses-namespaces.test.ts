import { accumulateResponse } from 'openai/lib/responses/ResponseAccumulator'
import type { Response, ResponseStreamEvent } from 'openai/resources/responses/responses'
import { describe, expect, it } from 'vitest'
import type { LiveEncoder } from '../../src/events/encoders'
import { openAIResponsesFormat, responseSnapshot } from '../../src/dialects/responses/format'
import { flatToolName, namespacedNames, upstreamCallName } from '../../src/dialects/responses/namespaces'
import { eventRecordFormat, parseRecords } from '../../src/streams/record-format'

/** The map between a namespace's functions and their flat names, and the Responses encoder that uses it. */

const tools = [
  { type: 'function', name: 'lookup' },
  {
    type: 'namespace',
    name: 'agents',
    tools: [
      { type: 'function', name: 'spawn' },
      { type: 'custom', name: 'x' },
    ],
  },
  { type: 'namespace', name: 'broken', tools: 'none' },
  { type: 'namespace', tools: [{ type: 'function', name: 'nameless' }] },
  null,
]

describe('namespaced names', () => {
  it('are flat upstream, and mapped back only for functions inside a well-formed namespace', () => {
    expect(flatToolName({ namespace: 'agents', name: 'spawn' })).toBe('agents__spawn')
    expect([...namespacedNames(tools)]).toEqual([['agents__spawn', { namespace: 'agents', name: 'spawn' }]])
    expect(namespacedNames(undefined).size).toBe(0)
    expect(namespacedNames({ tools }).size).toBe(0)
  })

  it("send a call reported into a namespace back flat, and any other call's name as it is", () => {
    expect(upstreamCallName({ name: 'spawn', namespace: 'agents' })).toBe('agents__spawn')
    expect(upstreamCallName({ name: 'lookup' })).toBe('lookup')
    expect(upstreamCallName({ name: 'lookup', namespace: null })).toBe('lookup')
    expect(upstreamCallName({ name: 7, namespace: 'agents' })).toBe(7)
  })
})

const answer = (e: LiveEncoder) => [
  e.start({ id: 'resp_abc', model: 'm', upstream: 'm', created: 7 }),
  e.toolCall({ index: 0, id: 'call_1', name: 'agents__spawn', argumentsDelta: '{"q":' }),
  e.toolCall({ index: 1, id: 'call_2', name: 'lookup', argumentsDelta: '{}' }),
  e.toolCall({ index: 0, argumentsDelta: '1}' }),
  e.usage({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 }),
  e.done('tool_calls'),
]

function parse(sse: string): ResponseStreamEvent[] {
  return sse
    .split('\n\n')
    .filter((block) => block.includes('data: '))
    .map((block) => JSON.parse(block.slice(block.indexOf('data: ') + 6)) as ResponseStreamEvent)
}

describe('the openai-responses format, with namespace tools in the echoed request', () => {
  const echo = { tools }

  it('reports a call to a flat name into its namespace, and the SDK accumulates it so', () => {
    const events = parse(answer(openAIResponsesFormat.live({ retryMs: 0, echo })).join(''))
    let snapshot: Response | undefined
    for (const event of events) snapshot = accumulateResponse(event, snapshot as Response)
    const [spawn, lookup] = snapshot!.output as unknown as Array<Record<string, unknown>>
    expect(spawn).toMatchObject({ type: 'function_call', name: 'spawn', namespace: 'agents', arguments: '{"q":1}' })
    expect(lookup).toMatchObject({ type: 'function_call', name: 'lookup' })
    expect(lookup).not.toHaveProperty('namespace')
    const done = events.at(-1) as { response: Response }
    expect(done.response.output).toEqual(snapshot!.output)
  })

  it('reports it the same when replayed from storage and in the stored snapshot; without the echo, flat', () => {
    const stored = parseRecords(answer(eventRecordFormat()).join('')).map((r, i) => ({ ...r, id: i + 1 }))
    const live = parse(answer(openAIResponsesFormat.live({ retryMs: 0, echo })).join(''))
    const replayed = parse(openAIResponsesFormat.replay({ retryMs: 0, echo }).encode(stored))
    expect(replayed).toEqual(live)
    expect(responseSnapshot(stored, echo)!.output[0]).toMatchObject({ name: 'spawn', namespace: 'agents' })
    expect(responseSnapshot(stored, {})!.output[0]).toMatchObject({ name: 'agents__spawn' })
  })
})
