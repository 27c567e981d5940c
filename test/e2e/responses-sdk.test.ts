import OpenAI from 'openai'
import type { ResponseStreamEvent } from 'openai/resources/responses/responses'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { TestUpstream, testModels } from './upstream-server'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/** The official `openai` SDK's Responses API, unchanged, against the gateway under `wrangler dev`. */
let upstream: TestUpstream
let gateway: WranglerDev
let client: OpenAI

beforeAll(async () => {
  upstream = new TestUpstream()
  const upstreamUrl = await upstream.start()
  const apiKey = generateApiKey()
  gateway = await startWranglerDev({
    DEFAULT_MODEL: 'upstream',
    MODELS: testModels(upstreamUrl),
    API_KEYS: JSON.stringify({ sdk: { sha256: await hashApiKey(apiKey), models: ['*'] } }),
  })
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 })
})

afterAll(async () => {
  await gateway?.stop()
  await upstream?.stop()
})

const weather = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Current weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
}

async function collect(
  stream: AsyncIterable<ResponseStreamEvent>,
  events: ResponseStreamEvent[] = [],
): Promise<ResponseStreamEvent[]> {
  for await (const event of stream) events.push(event)
  return events
}

const textOf = (events: ResponseStreamEvent[]) =>
  events.map((e) => (e.type === 'response.output_text.delta' ? e.delta : '')).join('')

describe('the openai SDK against /v1/responses', () => {
  it('creates a response without streaming', async () => {
    const response = await client.responses.create({ model: 'upstream', input: 'hello responses' })
    expect(response.output_text).toBe('echo: hello responses')
    expect(response).toMatchObject({ object: 'response', status: 'completed', usage: { total_tokens: 8 } })
  })

  it('streams events numbered from 0, ending completed', async () => {
    const events = await collect(await client.responses.create({ model: 'upstream', input: 'hi there', stream: true }))
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i))
    expect(textOf(events)).toBe('echo: hi there')
    expect(events.at(-1)).toMatchObject({ type: 'response.completed', response: { usage: { input_tokens: 5 } } })
  })

  it('assembles tool calls with responses.stream and finalResponse()', async () => {
    const final = await client.responses.stream({ model: 'upstream', input: 'tools', tools: [weather] }).finalResponse()
    const calls = final.output.filter((item) => item.type === 'function_call')
    expect(calls.map(({ call_id, name, arguments: args }) => ({ call_id, name, args: JSON.parse(args) }))).toEqual([
      { call_id: 'call_paris', name: 'get_weather', args: { city: 'Paris' } },
      { call_id: 'call_rome', name: 'get_weather', args: { city: 'Rome' } },
    ])
  })

  it('runs a two-step tool loop with function_call_output and previous_response_id', async () => {
    const first = await client.responses.create({ model: 'upstream', input: 'tools', tools: [weather] })
    const outputs = first.output.flatMap((item) =>
      item.type === 'function_call'
        ? [{ type: 'function_call_output' as const, call_id: item.call_id, output: `sunny in ${item.call_id}` }]
        : [],
    )
    const second = await client.responses.create({
      model: 'upstream',
      previous_response_id: first.id,
      input: outputs,
      tools: [weather],
    })
    expect(second.output_text).toBe('tool said: sunny in call_paris, sunny in call_rome')
    // The upstream got the whole conversation: the question, the calls, their results.
    expect(upstream.requests.at(-1)!.body.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'tool'])
  })

  it('continues a conversation from previous_response_id', async () => {
    const first = await client.responses.create({ model: 'upstream', input: 'first turn' })
    await client.responses.create({ model: 'upstream', input: 'second turn', previous_response_id: first.id })
    expect(upstream.requests.at(-1)!.body.messages).toEqual([
      { role: 'user', content: 'first turn' },
      { role: 'assistant', content: 'echo: first turn' },
      { role: 'user', content: 'second turn' },
    ])
  })

  it('resumes a background response after a cut with retrieve(id, {stream, starting_after})', async () => {
    const started = await client.responses.create({ model: 'upstream', input: 'gated', background: true })
    expect(started.status).toBe('in_progress')
    // A reader reads until the first text, then its connection is cut.
    const controller = new AbortController()
    const reading = await client.responses.retrieve(started.id, { stream: true }, { signal: controller.signal })
    const seen: ResponseStreamEvent[] = []
    for await (const event of reading) {
      seen.push(event)
      if (event.type === 'response.output_text.delta') break
    }
    controller.abort()
    upstream.releaseGate()
    const last = seen.at(-1)!.sequence_number
    const rest = await collect(await client.responses.retrieve(started.id, { stream: true, starting_after: last }))
    expect(rest[0]!.sequence_number).toBe(last + 1)
    expect(rest.map((e) => e.sequence_number)).toEqual(rest.map((_, i) => last + 1 + i))
    expect(textOf([...seen, ...rest])).toBe('First and the rest.')
    expect(rest.at(-1)!.type).toBe('response.completed')
    const retrieved = await client.responses.retrieve(started.id)
    expect(retrieved).toMatchObject({ status: 'completed', background: true })
    expect(retrieved.output_text).toBe('First and the rest.')
  })

  it('cancels a background response: the upstream is let go and the stream never ends completed', async () => {
    const abandoned = upstream.abandonedAnswers
    const started = await client.responses.create({ model: 'upstream', input: 'stall', background: true })
    const seen: ResponseStreamEvent[] = []
    // What the reading ended with (caught now: it ends while the test is still cancelling).
    const reading = collect(await client.responses.retrieve(started.id, { stream: true }), seen).catch((e) => e)
    await upstream.until(() => upstream.openAnswers > 0)
    const cancelled = await client.responses.cancel(started.id)
    expect(cancelled.status).toBe('cancelled')
    // The SDK raises on the stream's `error` event: a cancelled answer is never taken for a whole one.
    expect(await reading).toMatchObject({ code: 'cancelled' })
    expect(seen.some((e) => e.type === 'response.completed')).toBe(false)
    await upstream.until(() => upstream.abandonedAnswers > abandoned)
    await client.responses.delete(started.id)
    await expect(client.responses.retrieve(started.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError)
  })

  it.each(['reset', 'truncate', 'malformed'])('raises for a %s upstream, raw or with .stream()', async (scenario) => {
    // Raw iteration raises on the `error` event that comes before `response.failed`.
    const events: ResponseStreamEvent[] = []
    const raw = client.responses.create({ model: 'upstream', input: scenario, stream: true })
    await expect(raw.then((stream) => collect(stream, events))).rejects.toBeInstanceOf(OpenAI.APIError)
    expect(textOf(events).length).toBeGreaterThan(0)
    expect(events.some((e) => e.type === 'response.completed')).toBe(false)
    const helper = client.responses.stream({ model: 'upstream', input: scenario })
    await expect(helper.finalResponse()).rejects.toBeInstanceOf(OpenAI.APIError)
    await expect(client.responses.create({ model: 'upstream', input: scenario })).rejects.toMatchObject({ status: 502 })
  })

  it('lists a response’s input items with inputItems.list, paging on by itself', async () => {
    const first = await client.responses.create({ model: 'upstream', input: 'first turn' })
    const second = await client.responses.create({
      model: 'upstream',
      input: [
        { role: 'user', content: 'second turn' },
        { role: 'user', content: 'and more' },
      ],
      previous_response_id: first.id,
    })
    const page = await client.responses.inputItems.list(second.id, { limit: 2 })
    expect(page.data.map((item) => (item.type === 'message' ? item.content[0] : item))).toMatchObject([
      { type: 'input_text', text: 'and more' },
      { type: 'input_text', text: 'second turn' },
    ])
    expect(page.hasNextPage()).toBe(true)
    const all = []
    for await (const item of client.responses.inputItems.list(second.id, { limit: 2, order: 'asc' })) all.push(item)
    expect(all.map((item) => item.type === 'message' && item.role)).toEqual(['user', 'assistant', 'user', 'user'])
    await expect(client.responses.inputItems.list('resp_nope')).rejects.toBeInstanceOf(OpenAI.NotFoundError)
  })

  it('counts input tokens with inputTokens.count (an estimate), and refuses compact plainly', async () => {
    const { data, response } = await client.responses.inputTokens
      .count({ model: 'upstream', input: 'How many tokens is this?' })
      .withResponse()
    expect(data).toMatchObject({ object: 'response.input_tokens' })
    expect(data.input_tokens).toBeGreaterThan(0)
    expect(response.headers.get('x-token-count')).toBe('estimate')
    await expect(client.responses.compact({ model: 'upstream', input: 'x' })).rejects.toMatchObject({
      status: 404,
      code: 'unsupported_endpoint',
    })
  })
})
