import OpenAI from 'openai'
import type { ResponseStreamEvent } from 'openai/resources/responses/responses'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { RESPONSES_USAGE } from './responses-upstream'
import { TestUpstream } from './upstream-server'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * Pass-through (issue 25) under `wrangler dev`, against a loopback upstream that records what it
 * got: `/v1/chat/completions` to a Chat Completions model and `/v1/responses` to a model with
 * `api = "responses"` send the caller's own body, unknown fields and all, with only the fields the
 * gateway owns changed; the same Responses model serves translated callers (`/api/chat`); a
 * fallback of another family answers by translation; stored and background responses and
 * `previous_response_id` work with the upstream asked to store nothing.
 */

let upstream: TestUpstream
let gateway: WranglerDev
let client: OpenAI
let apiKey: string

const SINGLE_ATTEMPT = { retries: 0, circuit_breaker: { failures: 1_000_000 } }

beforeAll(async () => {
  upstream = new TestUpstream()
  const url = await upstream.start()
  apiKey = generateApiKey()
  const down = url.replace(/\/v1$/, '/down')
  gateway = await startWranglerDev(
    {
      DEFAULT_MODEL: 'chat',
      MODELS: JSON.stringify({
        chat: {
          adapter: 'openai',
          base_url: url,
          upstream_model: 'test-model',
          max_tokens_ceiling: 500,
          ...SINGLE_ATTEMPT,
        },
        gpt: { adapter: 'openai', api: 'responses', base_url: url, upstream_model: 'gpt-up', ...SINGLE_ATTEMPT },
        'gpt-down': {
          adapter: 'openai',
          api: 'responses',
          base_url: down,
          upstream_model: 'gpt-up',
          fallbacks: ['claude'],
          ...SINGLE_ATTEMPT,
        },
        claude: {
          adapter: 'anthropic',
          base_url: url,
          upstream_model: 'claude-upstream',
          api_key_secret: 'ANTHROPIC_KEY',
          ...SINGLE_ATTEMPT,
        },
      }),
      API_KEYS: JSON.stringify({ sdk: { sha256: await hashApiKey(apiKey), models: ['*'] } }),
    },
    { ANTHROPIC_KEY: 'sk-ant-test' },
  )
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 })
})

afterAll(async () => {
  await gateway?.stop()
  await upstream?.stop()
})

const post = (path: string, body: object) =>
  fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  })
const lastSent = () => upstream.requests.at(-1)!
const textOf = (events: ResponseStreamEvent[]) =>
  events.map((e) => (e.type === 'response.output_text.delta' ? e.delta : '')).join('')

describe('/v1/chat/completions to a Chat Completions model: pass-through', () => {
  it('sends the caller’s body as it is, changing only the model, the max-tokens field, stream and usage', async () => {
    const body = {
      model: 'chat',
      messages: [{ role: 'user', content: 'hello there' }],
      max_completion_tokens: 9000,
      prompt_cache_key: 'conversation-7',
      logit_bias: { '50256': -100 },
      frequency_penalty: 0.5,
      n: 1,
      vendor_extension: { keep: ['me'] },
      stream: true,
    }
    const response = await post('/v1/chat/completions', body)
    expect(response.status).toBe(200)
    expect(await response.text()).toContain('echo: hello there')
    expect(response.headers.get('X-Gateway-Ignored')).toBeNull()
    expect(lastSent().body).toEqual({
      ...body,
      model: 'test-model',
      // The model's ceiling, in the field the caller used.
      max_completion_tokens: 500,
      stream_options: { include_usage: true },
    })
    expect(lastSent().body).not.toHaveProperty('max_tokens')
  })

  it('puts the admitted max_tokens where the caller used none, and asks for usage on a whole answer', async () => {
    const completion = await client.chat.completions.create({
      model: 'chat',
      messages: [{ role: 'user', content: 'whole' }],
    })
    expect(completion.choices[0]!.message.content).toBe('echo: whole')
    expect(lastSent().body).toMatchObject({ stream: true, stream_options: { include_usage: true }, max_tokens: 500 })
  })

  it('reports the upstream’s cached tokens in the answer’s usage', async () => {
    const response = await post('/api/chat', { model: 'chat', messages: [{ role: 'user', content: 'cached' }] })
    expect(await response.text()).toMatch(/"prompt_tokens":40,[^}]*"cache_read_tokens":24/)
  })
})

describe('/v1/responses to a model with api = "responses": pass-through', () => {
  const hosted = [
    { type: 'web_search' },
    { type: 'namespace', name: 'agents', tools: [{ type: 'function', name: 'spawn', parameters: {} }] },
    { type: 'function', name: 'exec_command', parameters: { type: 'object', properties: {} }, strict: false },
  ]

  it('sends the body as it is (hosted and namespace tools, include, client_metadata), store: false', async () => {
    const body = {
      model: 'gpt',
      instructions: 'Be brief.',
      input: [
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello responses' }] },
        { type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'x' } },
      ],
      tools: hosted,
      tool_choice: 'auto',
      include: ['reasoning.encrypted_content'],
      prompt_cache_key: 'conversation-8',
      client_metadata: { session: 's-1' },
      reasoning: { effort: 'low', summary: 'auto' },
      max_output_tokens: 64,
      truncation: 'auto',
      store: false,
      stream: true,
    }
    const events: ResponseStreamEvent[] = []
    const stream = (await client.responses.create(body as never)) as unknown as AsyncIterable<ResponseStreamEvent>
    for await (const event of stream) events.push(event)
    expect(textOf(events)).toBe('echo: hello responses')
    expect(lastSent().body).toEqual({ ...body, model: 'gpt-up' })
  })

  it('names nothing in X-Gateway-Ignored: every field reaches the provider', async () => {
    const response = await post('/v1/responses', {
      model: 'gpt',
      input: 'plain',
      client_metadata: { a: 1 },
      include: ['reasoning.encrypted_content'],
      prompt_cache_key: 'k',
      store: false,
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('X-Gateway-Ignored')).toBeNull()
    expect(lastSent().body).toMatchObject({ client_metadata: { a: 1 }, prompt_cache_key: 'k', stream: true })
  })

  it('reports the upstream’s cached and reasoning tokens, on the Responses surface and on /api/chat (translated)', async () => {
    const response = await client.responses.create({ model: 'gpt', input: 'usage please', store: false })
    expect(response.usage).toMatchObject({ input_tokens: 50, output_tokens: 4 })
    const chat = await post('/api/chat', { model: 'gpt', messages: [{ role: 'user', content: 'usage please' }] })
    const usage = /event: usage\ndata: (.*)\n/.exec(await chat.text())![1]!
    expect(JSON.parse(usage)).toMatchObject({
      prompt_tokens: RESPONSES_USAGE.input_tokens,
      reasoning_tokens: 1,
      cache_read_tokens: 32,
    })
    // Translated for a caller of another API: a Responses request built from the gateway's own.
    expect(lastSent().body).toMatchObject({
      model: 'gpt-up',
      input: [{ type: 'message', role: 'user', content: 'usage please' }],
      stream: true,
      store: false,
    })
  })

  it('returns the provider’s refusal in OpenAI’s error shape', async () => {
    const refused = client.responses.create({ model: 'gpt', input: 'status:400', store: false })
    await expect(refused).rejects.toBeInstanceOf(OpenAI.BadRequestError)
    await expect(refused).rejects.toMatchObject({
      status: 400,
      code: 'upstream_rejected_request',
      message: expect.stringContaining('max_output_tokens is too large'),
    })
  })

  it('ends in an error the client raises when the upstream’s stream is cut off before its end', async () => {
    const whole = client.responses.create({ model: 'gpt', input: 'truncate', store: false })
    await expect(whole).rejects.toMatchObject({ status: 502, code: 'upstream_truncated' })
    // Streamed, the SDK raises at the gateway's error event, after the text that came.
    const events: ResponseStreamEvent[] = []
    const stream = await client.responses.create({ model: 'gpt', input: 'truncate', store: false, stream: true })
    const reading = (async () => {
      for await (const event of stream) events.push(event)
    })()
    await expect(reading).rejects.toThrow('The model provider ended the stream before the answer was complete.')
    expect(textOf(events)).toBe('Cut short')
  })

  it('answers through a fallback of another family, by translation, hosted tools left out', async () => {
    const response = await client.responses.create({
      model: 'gpt-down',
      input: 'from the fallback',
      tools: hosted as never,
      store: false,
    })
    expect(response.output_text).toBe('echo: from the fallback')
    expect(lastSent().body).toMatchObject({ model: 'claude-upstream' })
    expect((lastSent().body.tools as Array<{ name: string }>).map((t) => t.name)).toEqual(['exec_command'])
  })

  it('stores a response and continues it with previous_response_id: the upstream gets the conversation in input', async () => {
    const first = await client.responses.create({ model: 'gpt', input: 'first turn' })
    expect(first.output_text).toBe('echo: first turn')
    expect(lastSent().body).toMatchObject({ store: false })
    const second = await client.responses.create({
      model: 'gpt',
      input: 'second turn',
      previous_response_id: first.id,
      prompt_cache_key: 'kept',
    })
    expect(second.output_text).toBe('echo: second turn')
    const sent = lastSent().body
    expect(sent).not.toHaveProperty('previous_response_id')
    expect(sent).toMatchObject({ store: false, prompt_cache_key: 'kept' })
    expect(sent.input).toEqual([
      { type: 'message', role: 'user', content: 'first turn' },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'echo: first turn' }] },
      { role: 'user', content: 'second turn' },
    ])
    const retrieved = await client.responses.retrieve(second.id)
    expect(retrieved).toMatchObject({ status: 'completed', previous_response_id: first.id })
  })

  it('fills in an item_reference to a stored response’s output, in the caller’s own input', async () => {
    const first = await client.responses.create({ model: 'gpt', input: 'remember me' })
    const [item] = first.output
    await client.responses.create({
      model: 'gpt',
      input: [
        { type: 'item_reference', id: item!.id },
        { type: 'message', role: 'user', content: 'and then?' },
      ] as never,
    })
    expect(lastSent().body.input).toEqual([
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'echo: remember me' }] },
      { type: 'message', role: 'user', content: 'and then?' },
    ])
  })

  it('runs a background response in the gateway, never in the provider', async () => {
    const started = await client.responses.create({ model: 'gpt', input: 'in the background', background: true })
    expect(started.status).toBe('in_progress')
    let retrieved = await client.responses.retrieve(started.id)
    for (let i = 0; retrieved.status === 'in_progress' && i < 100; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      retrieved = await client.responses.retrieve(started.id)
    }
    expect(retrieved).toMatchObject({ status: 'completed', background: true, output_text: 'echo: in the background' })
    expect(lastSent().body).toMatchObject({ store: false })
    expect(lastSent().body).not.toHaveProperty('background')
  })

  it('counts input tokens at the provider, with the body it would send', async () => {
    const response = await post('/v1/responses/input_tokens', {
      model: 'gpt',
      input: 'count me',
      tools: hosted,
    })
    expect(response.headers.get('x-token-count')).toBe('provider')
    expect(await response.json()).toEqual({ object: 'response.input_tokens', input_tokens: 77 })
    expect(lastSent().body).toEqual({ model: 'gpt-up', input: 'count me', tools: hosted })
  })
  it('forwards compaction to the provider, with a previous response filled in; other models get a 404', async () => {
    const first = await client.responses.create({ model: 'gpt', input: 'to compact' })
    const response = await post('/v1/responses/compact', { model: 'gpt', previous_response_id: first.id, input: [] })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ object: 'response.compaction', output: [{ type: 'compaction' }] })
    expect(lastSent().body).toEqual({
      model: 'gpt-up',
      input: [
        { type: 'message', role: 'user', content: 'to compact' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'echo: to compact' }] },
      ],
    })
    const refused = await post('/v1/responses/compact', { model: 'chat', input: 'x' })
    expect(refused.status).toBe(404)
    expect(await refused.json()).toMatchObject({ error: { code: 'unsupported_endpoint' } })
  })
})
