import { afterEach, describe, expect, it, vi } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import app from '../../src/index'
import { openAI } from '../helpers/upstream'
import { streamEnv, until } from '../streams/helpers'

/**
 * `/v1/responses` in the Workers runtime: the request translated into ours (checked where it
 * reaches the upstream), the refusals in OpenAI's shape, and stored responses in the answer's
 * Durable Object with their owners. The SDKs' view is in test/e2e/responses-*.test.ts.
 */

const alice = generateApiKey()
const bob = generateApiKey()

async function keyedEnv() {
  return streamEnv({
    MODELS: {
      demo: { adapter: 'demo', token_delay_ms: 0 },
      silent: { adapter: 'demo', token_delay_ms: 0, silence_after_tokens: 3, silence_ms: 60_000 },
      flaky: { adapter: 'demo', token_delay_ms: 0, fail_after_tokens: 5 },
      gpt: { adapter: 'openai', base_url: 'https://upstream.test/v1', upstream_model: 'gpt-up' },
    },
    ANONYMOUS_MODELS: 'demo, gpt, flaky',
    API_KEYS: {
      alice: { sha256: await hashApiKey(alice), models: ['*'] },
      bob: { sha256: await hashApiKey(bob), models: ['*'] },
    },
  })
}

afterEach(() => vi.restoreAllMocks())

const auth = (key?: string): Record<string, string> => (key ? { Authorization: `Bearer ${key}` } : {})

async function call(path: string, init: RequestInit & { key?: string } = {}) {
  const { key, ...rest } = init
  return app.request(
    `http://gateway.test${path}`,
    { ...rest, headers: { 'Content-Type': 'application/json', ...auth(key), ...(rest.headers as object) } },
    await keyedEnv(),
  )
}

const create = (body: object, key?: string) =>
  call('/v1/responses', { method: 'POST', body: JSON.stringify(body), key })

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** An upstream in place of `fetch` that answers "Hi." and records what it was sent. */
function recordingUpstream(): Json[] {
  const bodies: Json[] = []
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (_, init) => {
    bodies.push(JSON.parse(String(init?.body)) as Json)
    return new Response(openAI.text('Hi.') + openAI.finish() + openAI.usage(3, 2) + openAI.done, {
      headers: { 'Content-Type': 'text/event-stream' },
    })
  })
  return bodies
}

function events(sse: string): Json[] {
  return sse
    .split('\n\n')
    .filter((block) => block.startsWith('event: '))
    .map((block) => JSON.parse(block.slice(block.indexOf('\ndata: ') + 7)) as Json)
}

async function errorOf(response: Response, status = 400) {
  expect(response.status).toBe(status)
  return ((await response.json()) as { error: Json }).error
}

describe('POST /v1/responses translates the request', () => {
  it('carries input items, instructions, flat tools, tool_choice, text.format and reasoning.effort upstream', async () => {
    const upstream = recordingUpstream()
    const response = await create({
      model: 'gpt',
      store: false,
      instructions: 'Be brief.',
      input: [
        { role: 'developer', content: 'Use metric units.' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Weather?' }] },
        { type: 'reasoning', id: 'rs_1', summary: [] },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.', annotations: [] }] },
        { type: 'function_call', call_id: 'call_1', name: 'weather', arguments: '{"city":"Oslo"}' },
        { type: 'function_call_output', call_id: 'call_1', output: '{"c":3}' },
        { role: 'user', content: [{ type: 'input_image', image_url: 'https://example.com/a.png', detail: 'low' }] },
      ],
      tools: [
        { type: 'function', name: 'weather', description: 'Weather', parameters: { type: 'object' }, strict: true },
      ],
      tool_choice: { type: 'function', name: 'weather' },
      parallel_tool_calls: false,
      max_output_tokens: 100,
      temperature: 0.5,
      top_p: 0.9,
      text: {
        format: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true },
        verbosity: 'low',
      },
      reasoning: { effort: 'low', summary: 'auto' },
      metadata: { a: '1' },
      user: 'u',
      include: ['reasoning.encrypted_content'],
      truncation: 'disabled',
    })
    expect(response.status).toBe(200)
    const body = (await response.json()) as Json
    expect(body).toMatchObject({ object: 'response', status: 'completed', metadata: { a: '1' }, store: false })
    expect(body.output).toMatchObject([{ type: 'message', content: [{ type: 'output_text', text: 'Hi.' }] }])
    expect(body.usage).toMatchObject({ input_tokens: 3, output_tokens: 2, total_tokens: 5 })
    expect(upstream[0]).toMatchObject({
      model: 'gpt-up',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'system', content: 'Use metric units.' },
        { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
        {
          role: 'assistant',
          content: [{ type: 'text', text: 'Checking.' }],
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"c":3}' },
        {
          role: 'user',
          content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'low' } }],
        },
      ],
      tools: [
        {
          type: 'function',
          function: { name: 'weather', description: 'Weather', parameters: { type: 'object' }, strict: true },
        },
      ],
      tool_choice: { type: 'function', function: { name: 'weather' } },
      parallel_tool_calls: false,
      max_tokens: 100,
      temperature: 0.5,
      top_p: 0.9,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'answer', schema: { type: 'object' }, strict: true },
      },
      reasoning_effort: 'low',
      verbosity: 'low',
    })
  })

  it.each([
    ['tools.0.type', { tools: [{ type: 'web_search' }] }],
    ['conversation', { conversation: 'conv_1' }],
    ['prompt', { prompt: { id: 'pmpt_1' } }],
    ['truncation', { truncation: 'auto' }],
    ['input.0.content.0', { input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] }],
    ['input.0.type', { input: [{ type: 'computer_call_output', call_id: 'c' }] }],
    ['tool_choice', { tool_choice: { type: 'web_search_preview' } }],
  ])('refuses %s with a 400 naming it, in OpenAI’s error shape', async (param, extra) => {
    const error = await errorOf(await create({ model: 'demo', input: 'hi', ...extra }))
    expect(error).toMatchObject({ type: 'invalid_request_error', code: 'unsupported_parameter', param })
  })

  it('ignores and names a field it does not know, and reports schema issues at the caller’s path', async () => {
    const unknown = await create({ model: 'demo', input: 'hi', top_k: 3 })
    expect(unknown.status).toBe(200)
    expect(unknown.headers.get('X-Gateway-Ignored')).toBe('top_k')
    const error = await errorOf(
      await create({
        model: 'demo',
        input: [
          { role: 'user', content: 'a' },
          { role: 'user', content: 7 },
        ],
      }),
    )
    expect(error).toMatchObject({ code: 'invalid_request', param: 'input.1.content' })
    expect(await errorOf(await create({ model: 'demo', input: 'hi', max_output_tokens: 0 }))).toMatchObject({
      param: 'max_output_tokens',
    })
  })
})

describe('POST /v1/responses streams', () => {
  it('sends OpenAI’s events numbered from 0 and ends completed, without storing for anonymous callers', async () => {
    const response = await create({ model: 'demo', input: 'hello', stream: true })
    expect(response.headers.get('Content-Type')).toMatch(/^text\/event-stream/)
    const all = events(await response.text())
    expect(all.map((e) => e.sequence_number)).toEqual(all.map((_, i) => i))
    expect(all[0]).toMatchObject({ type: 'response.created', response: { status: 'in_progress', store: false } })
    expect(all.at(-1)).toMatchObject({ type: 'response.completed', response: { status: 'completed' } })
    // Not kept: its id leads nowhere, and retrieving needs credentials anyway.
    expect(await errorOf(await call(`/v1/responses/${all[0]!.response.id}`), 401)).toMatchObject({
      code: 'invalid_api_key',
    })
  })

  it('ends a failing answer with response.failed carrying our code, streaming or not', async () => {
    const all = events(await (await create({ model: 'flaky', input: 'hello', stream: true })).text())
    // An `error` event first, as OpenAI's streams send: the SDKs raise on it.
    expect(all.slice(-2)).toMatchObject([
      { type: 'error', code: 'upstream_error', param: null },
      { type: 'response.failed', response: { status: 'failed', error: { code: 'upstream_error' } } },
    ])
    expect(all.map((e) => e.sequence_number)).toEqual(all.map((_, i) => i))
    expect(all.some((e) => e.type === 'response.completed')).toBe(false)
    expect(await errorOf(await create({ model: 'flaky', input: 'hello' }), 502)).toMatchObject({
      code: 'upstream_error',
    })
  })
})

describe('stored responses', () => {
  it('are kept for their owner: retrieved whole, replayed after a sequence number, deleted', async () => {
    const created = (await (await create({ model: 'demo', input: 'keep me' }, alice)).json()) as Json
    expect(created).toMatchObject({ status: 'completed', store: true })
    const id = created.id as string
    expect(id).toMatch(/^resp_/)

    const retrieved = (await (await call(`/v1/responses/${id}`, { key: alice })).json()) as Json
    expect(retrieved).toEqual(created)

    const all = events(await (await call(`/v1/responses/${id}?stream=true`, { key: alice })).text())
    const rest = events(await (await call(`/v1/responses/${id}?stream=true&starting_after=4`, { key: alice })).text())
    expect(rest).toEqual(all.slice(5))
    expect(all.at(-1)).toMatchObject({ type: 'response.completed', response: created })

    // Bob cannot see, cancel, delete or continue it: to him it does not exist.
    expect(await errorOf(await call(`/v1/responses/${id}`, { key: bob }), 404)).toMatchObject({
      code: 'response_not_found',
    })
    expect((await call(`/v1/responses/${id}`, { key: bob, method: 'DELETE' })).status).toBe(404)
    expect((await create({ model: 'demo', input: 'more', previous_response_id: id }, bob)).status).toBe(404)

    expect(await (await call(`/v1/responses/${id}`, { key: alice, method: 'DELETE' })).json()).toEqual({
      id,
      object: 'response',
      deleted: true,
    })
    expect((await call(`/v1/responses/${id}`, { key: alice })).status).toBe(404)
  })

  it('are kept for nobody with store: false', async () => {
    const created = (await (await create({ model: 'demo', input: 'forget me', store: false }, alice)).json()) as Json
    expect(created.store).toBe(false)
    expect((await call(`/v1/responses/${created.id}`, { key: alice })).status).toBe(404)
  })

  it('continue a conversation from previous_response_id, its whole chain', async () => {
    const upstream = recordingUpstream()
    const first = (await (
      await create({ model: 'gpt', input: 'One', instructions: 'Old rules' }, alice)
    ).json()) as Json
    const second = (await (
      await create({ model: 'gpt', input: 'Two', previous_response_id: first.id }, alice)
    ).json()) as Json
    await create({ model: 'gpt', input: 'Three', instructions: 'New rules', previous_response_id: second.id }, alice)
    expect(upstream.at(-1)!.messages).toEqual([
      { role: 'system', content: 'New rules' },
      { role: 'user', content: 'One' },
      { role: 'assistant', content: 'Hi.' },
      { role: 'user', content: 'Two' },
      { role: 'assistant', content: 'Hi.' },
      { role: 'user', content: 'Three' },
    ])
    expect(
      await errorOf(await create({ model: 'gpt', input: 'x', previous_response_id: 'resp_nope' }, alice), 404),
    ).toMatchObject({
      param: 'previous_response_id',
    })
  })

  it('resolve item_reference to a stored response’s output, for its owner only', async () => {
    const upstream = recordingUpstream()
    const first = (await (await create({ model: 'gpt', input: 'Q' }, alice)).json()) as Json
    const itemId = first.output[0].id as string
    const input = [
      { role: 'user', content: 'Q' },
      { type: 'reasoning', id: 'rs_x', summary: [] },
      { type: 'item_reference', id: itemId },
      { type: 'function_call', call_id: 'call_9', name: 'f', arguments: '{}' },
      { type: 'function_call_output', call_id: 'call_9', output: 'done' },
    ]
    const tools = [{ type: 'function', name: 'f', parameters: { type: 'object' } }]
    expect((await create({ model: 'gpt', input, tools }, alice)).status).toBe(200)
    expect(upstream.at(-1)!.messages).toEqual([
      { role: 'user', content: 'Q' },
      {
        role: 'assistant',
        content: 'Hi.',
        tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'call_9', content: 'done' },
    ])
    expect(await errorOf(await create({ model: 'gpt', input, tools }, bob), 404)).toMatchObject({
      code: 'item_not_found',
      param: 'input.2',
    })
    expect((await create({ model: 'gpt', input })).status).toBe(401)
  })

  it('run in the background, can be cancelled, and then never end completed', async () => {
    const started = (await (await create({ model: 'silent', input: 'wait', background: true }, alice)).json()) as Json
    expect(started).toMatchObject({ status: 'in_progress', background: true })
    const id = started.id as string
    await until(async () => {
      const now = (await (await call(`/v1/responses/${id}`, { key: alice })).json()) as Json
      return now.output.length > 0
    })
    const reading = call(`/v1/responses/${id}?stream=true`, { key: alice }).then((r) => r.text())
    const cancelled = (await (await call(`/v1/responses/${id}/cancel`, { key: alice, method: 'POST' })).json()) as Json
    expect(cancelled).toMatchObject({ id, status: 'cancelled' })
    const all = events(await reading)
    expect(all.at(-1)).toMatchObject({ type: 'response.failed', response: { status: 'cancelled' } })
    expect(all.some((e) => e.type === 'response.completed')).toBe(false)
    // Cancelling again returns it as it stands.
    expect(
      ((await (await call(`/v1/responses/${id}/cancel`, { key: alice, method: 'POST' })).json()) as Json).status,
    ).toBe('cancelled')
  })

  it('list their input items in OpenAI’s list shape, paged, for their owner only', async () => {
    recordingUpstream()
    const tools = [{ type: 'function', name: 'f', parameters: { type: 'object' } }]
    const first = (await (await create({ model: 'gpt', input: 'One', instructions: 'Rules' }, alice)).json()) as Json
    const input = [
      { role: 'user', content: [{ type: 'input_text', text: 'Two' }] },
      { type: 'function_call', call_id: 'call_9', name: 'f', arguments: '{}' },
      { type: 'function_call_output', call_id: 'call_9', output: 'done' },
    ]
    const second = (await (
      await create({ model: 'gpt', input, tools, previous_response_id: first.id }, alice)
    ).json()) as Json
    const list = (path: string, key = alice) => call(`/v1/responses/${second.id}/input_items${path}`, { key })

    const all = (await (await list('?order=asc&limit=100')).json()) as Json
    expect(all.data.map((item: Json) => [item.type, item.role ?? item.call_id])).toEqual([
      ['message', 'user'],
      ['message', 'assistant'],
      ['message', 'user'],
      ['function_call', 'call_9'],
      ['function_call_output', 'call_9'],
    ])
    expect(all.data[0]).toMatchObject({ status: 'completed', content: [{ type: 'input_text', text: 'One' }] })
    expect(all.data[1]).toMatchObject({ content: [{ type: 'output_text', text: 'Hi.' }] })
    expect(all.data[4]).toMatchObject({ output: 'done' })
    expect(all).toMatchObject({ object: 'list', first_id: all.data[0].id, last_id: all.data[4].id, has_more: false })

    // Newest first by default; `after` pages on from an item.
    const page1 = (await (await list('?limit=2')).json()) as Json
    expect(page1.data.map((item: Json) => item.id)).toEqual([all.data[4].id, all.data[3].id])
    expect(page1.has_more).toBe(true)
    const page2 = (await (await list(`?limit=2&after=${page1.last_id}`)).json()) as Json
    expect(page2.data.map((item: Json) => item.id)).toEqual([all.data[2].id, all.data[1].id])
    const page3 = (await (await list(`?after=${page2.last_id}`)).json()) as Json
    expect(page3).toMatchObject({ data: [{ id: all.data[0].id }], has_more: false })

    expect(await errorOf(await list('?limit=0'))).toMatchObject({ param: 'limit' })
    expect(await errorOf(await list('?order=up'))).toMatchObject({ param: 'order' })
    expect(await errorOf(await list('?after=msg_nope'))).toMatchObject({ param: 'after' })
    expect(await errorOf(await list('', bob), 404)).toMatchObject({ code: 'response_not_found' })
    expect((await call(`/v1/responses/${second.id}/input_items`)).status).toBe(401)
  })

  it('need credentials for background, retrieval and previous_response_id', async () => {
    expect((await create({ model: 'demo', input: 'x', background: true })).status).toBe(401)
    expect((await create({ model: 'demo', input: 'x', previous_response_id: 'resp_x' })).status).toBe(401)
    expect((await call('/v1/responses/resp_x')).status).toBe(401)
  })
})

describe('the rest of /v1/responses', () => {
  it('estimates input tokens in OpenAI’s shape, and says it is an estimate', async () => {
    const count = (body: object) => call('/v1/responses/input_tokens', { method: 'POST', body: JSON.stringify(body) })
    const short = await count({ model: 'gpt', input: 'Hi' })
    expect(short.status).toBe(200)
    expect(short.headers.get('x-token-count')).toBe('estimate')
    const { input_tokens: few, ...rest } = (await short.json()) as Json
    expect(rest).toEqual({ object: 'response.input_tokens' })
    const long = (await (await count({ input: 'word '.repeat(400), instructions: 'Be brief.' })).json()) as Json
    expect(long.input_tokens).toBeGreaterThan(few + 400)
    expect(await errorOf(await count({ model: 'gpt' }))).toMatchObject({ param: 'input' })
    expect(await errorOf(await count({ model: 'nope', input: 'x' }), 404)).toMatchObject({ code: 'unknown_model' })
  })

  it('says compaction is not offered for a model not served through the Responses API, in OpenAI’s shape', async () => {
    const error = await errorOf(await call('/v1/responses/compact', { method: 'POST', body: '{}' }), 404)
    expect(error).toMatchObject({ type: 'invalid_request_error', code: 'unsupported_endpoint' })
    expect(error.message).toContain('compaction is offered only for models served through OpenAI’s Responses API')
    const other = await call('/v1/responses/compact', { method: 'GET' })
    expect(await errorOf(other, 404)).toMatchObject({ code: 'unsupported_endpoint' })
  })

  it('answers 405 only for a path it serves with another method, 404 for the rest', async () => {
    const wrongMethod = await call('/v1/responses/input_tokens', { method: 'GET' })
    expect(await errorOf(wrongMethod, 405)).toMatchObject({ code: 'method_not_allowed' })
    expect(wrongMethod.headers.get('Allow')).toBe('POST')
    expect((await call('/v1/responses/resp_x/input_items', { method: 'POST', body: '{}' })).headers.get('Allow')).toBe(
      'GET',
    )
    expect((await call('/v1/responses/resp_x', { method: 'PUT', body: '{}' })).status).toBe(405)
    for (const [method, path] of [
      ['POST', '/v1/responses/nothing'],
      ['PUT', '/v1/responses/nothing/cancel'],
      ['GET', '/v1/responses/resp_x/other'],
    ]) {
      const error = await errorOf(await call(path!, { method, body: method === 'GET' ? undefined : '{}' }), 404)
      expect(error).toMatchObject({ code: 'unknown_url' })
      expect(error.message).not.toMatch(/Use (GET|POST)/)
    }
  })
})

describe('the rest of /v1', () => {
  it('answers GET /v1/models/{id} for a model the caller may use, 404 otherwise', async () => {
    expect(await (await call('/v1/models/demo')).json()).toEqual({
      id: 'demo',
      object: 'model',
      created: 0,
      owned_by: 'gateway',
    })
    expect(await errorOf(await call('/v1/models/silent'), 404)).toMatchObject({ code: 'model_not_found' })
  })

  it('answers an unknown /v1 path with a 404 in OpenAI’s shape naming the endpoints', async () => {
    const error = await errorOf(await call('/v1/embeddings', { method: 'POST', body: '{}' }), 404)
    expect(error).toMatchObject({ type: 'invalid_request_error', code: 'unknown_url' })
    expect(error.message).toContain('POST /v1/responses')
  })
})
