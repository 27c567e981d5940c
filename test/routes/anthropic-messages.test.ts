import { afterEach, describe, expect, it, vi } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { estimatePromptTokens } from '../../src/access/estimate'
import { loadConfig } from '../../src/config/load'
import type { AnthropicModelConfig } from '../../src/config/models'
import { toMessagesBody } from '../../src/providers/anthropic/request'
import { fromMessagesRequest } from '../../src/dialects/messages/request'
import { validateMessagesRequest } from '../../src/dialects/messages/validate'
import app from '../../src/index'
import { asEnv, type TestEnv } from '../helpers/env'
import { anthropicRecordings } from '../helpers/fixtures'

/**
 * `/v1/messages` in workerd: the Messages request as each provider gets it (captured from the
 * real route, with `fetch` standing in for the provider), every refusal in Anthropic's shape,
 * the non-streaming message, and count_tokens.
 */

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='

const MODELS = {
  demo: { adapter: 'demo', token_delay_ms: 0 },
  claude: {
    adapter: 'anthropic',
    upstream_model: 'claude-sonnet-4-5',
    api_key_secret: 'KEY',
    max_tokens: 1024,
    max_tokens_ceiling: 16_000,
  },
  gpt: { adapter: 'openai', base_url: 'https://api.example.com/v1', upstream_model: 'gpt-4o', api_key_secret: 'KEY' },
  gemini: { adapter: 'gemini', upstream_model: 'gemini-2.5-flash', api_key_secret: 'KEY' },
}

const key = generateApiKey()

async function environment(overrides: TestEnv = {}): Promise<Env> {
  return asEnv({
    DEFAULT_MODEL: 'demo',
    MODELS,
    ANONYMOUS_MODELS: 'demo, claude, gpt, gemini',
    API_KEYS: { team: { sha256: await hashApiKey(key), models: ['*'] } },
    KEY: 'sk-upstream',
    MAX_BODY_BYTES: '65536',
    ...overrides,
  })
}

async function post(body: unknown, { path = '/v1/messages', headers = {} as Record<string, string> } = {}) {
  return app.request(
    path,
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    },
    await environment(),
  )
}

const sent: Array<{ url: string; body: unknown; headers: Headers }> = []

/** Stands in for the provider: records each request and answers with `answer`. */
function provider(answer: () => Response) {
  sent.length = 0
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    sent.push({ url: String(input), body: JSON.parse(String(init?.body)), headers: new Headers(init?.headers) })
    return answer()
  })
}
const stream = (text: string) => () => new Response(text, { headers: { 'Content-Type': 'text/event-stream' } })

afterEach(() => void vi.restoreAllMocks())

async function anthropicError(response: Response, status: number) {
  expect(response.status).toBe(status)
  expect(response.headers.get('request-id')).toMatch(/^req_[0-9a-f]{32}$/)
  const body = (await response.json()) as { type: string; error: { type: string; message: string } }
  expect(body.type).toBe('error')
  return body.error
}

const weather = {
  name: 'get_weather',
  description: 'Current weather in a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
}

/** A whole tool loop with thinking, in every shape the Messages API allows. */
const toolLoop = {
  max_tokens: 8000,
  system: [
    { type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } },
    { type: 'text', text: 'Use the tools.' },
  ],
  messages: [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Weather where these are?' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
        { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
      ],
    },
    {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'Two cities.', signature: 'c2ln' },
        { type: 'redacted_thinking', data: 'cmVk' },
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Rome' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_1', content: '21°C' },
        { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: 'timeout' }], is_error: true },
        { type: 'text', text: 'And now?' },
      ],
    },
  ],
  tools: [{ ...weather, cache_control: { type: 'ephemeral' } }],
  tool_choice: { type: 'auto', disable_parallel_tool_use: true },
  stop_sequences: ['###'],
  temperature: 1,
  top_p: 0.9,
  thinking: { type: 'enabled', budget_tokens: 2048 },
  metadata: { user_id: 'u-1' },
  stream: true,
}

describe('the Messages request, as each provider gets it', () => {
  it('reaches an Anthropic model as the caller sent it, only model, max_tokens and stream the gateway’s', async () => {
    provider(stream(anthropicRecordings['basic_response.sse']!))
    const response = await post(
      { ...toolLoop, model: 'claude', top_k: 40, max_tokens: 64_000, context_management: { edits: [] } },
      { headers: { 'anthropic-beta': 'context-management-2025-06-27' } },
    )
    expect(response.status).toBe(200)
    expect(response.headers.get('X-Gateway-Ignored')).toBeNull()
    await response.text()
    expect(sent[0]!.url).toBe('https://api.anthropic.com/v1/messages')
    expect(sent[0]!.headers.get('anthropic-beta')).toBe('context-management-2025-06-27')
    expect(sent[0]!.headers.get('anthropic-version')).toBe('2023-06-01')
    // Admission lowered the caller's 64,000 to the model's ceiling.
    expect(sent[0]!.body).toEqual({
      ...toolLoop,
      top_k: 40,
      context_management: { edits: [] },
      model: 'claude-sonnet-4-5',
      max_tokens: 16_000,
      stream: true,
    })
  })

  it('translated for an Anthropic model (a fallback of another family’s): in substance unchanged, cache marks kept', async () => {
    const config = loadConfig(await environment())
    const translated = fromMessagesRequest({ ...toolLoop, model: 'claude', top_k: 40 }, config)
    const request = validateMessagesRequest(translated, config)
    const body = JSON.parse(JSON.stringify(toMessagesBody(config.models.claude as AnthropicModelConfig, request)))
    expect(body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 8000,
      system: [
        { type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } },
        { type: 'text', text: 'Use the tools.' },
      ],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather where these are?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'Two cities.', signature: 'c2ln' },
            { type: 'redacted_thinking', data: 'cmVk' },
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Rome' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: '21°C' },
            { type: 'tool_result', tool_use_id: 'toolu_2', content: 'timeout', is_error: true },
          ],
        },
        { role: 'user', content: [{ type: 'text', text: 'And now?' }] },
      ],
      temperature: 1,
      top_p: 0.9,
      top_k: 40,
      stop_sequences: ['###'],
      thinking: { type: 'enabled', budget_tokens: 2048 },
      tools: [{ ...weather, cache_control: { type: 'ephemeral' } }],
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
      stream: true,
    })
  })

  it('reaches an OpenAI-compatible model without the thinking blocks and is_error, which it has no place for', async () => {
    provider(stream('data: [DONE]\n\n'))
    await (await post({ ...toolLoop, model: 'gpt' })).text()
    const body = sent[0]!.body as { messages: object[] }
    expect(body).toMatchObject({
      model: 'gpt-4o',
      max_tokens: 8000,
      stop: ['###'],
      tool_choice: 'auto',
      parallel_tool_calls: false,
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: weather.input_schema } }],
    })
    expect(body.messages).toEqual([
      { role: 'system', content: 'You are terse.' },
      { role: 'system', content: 'Use the tools.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather where these are?' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
        ],
      },
      {
        role: 'assistant',
        content: [{ type: 'text', text: 'Checking.' }],
        tool_calls: [
          { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: '21°C' },
      { role: 'tool', tool_call_id: 'toolu_2', content: 'timeout' },
      { role: 'user', content: [{ type: 'text', text: 'And now?' }] },
    ])
  })

  it('refuses top_k by name for a model whose provider has none; carries it, thinking and is_error to Gemini', async () => {
    provider(stream('data: [DONE]\n\n'))
    const refused = await post({ ...toolLoop, model: 'gpt', top_k: 40 })
    expect(await anthropicError(refused, 400)).toMatchObject({
      type: 'invalid_request_error',
      message: expect.stringMatching(/^top_k: /),
    })
    // An answer that starts: an empty body is an upstream that died before answering, and is retried.
    provider(
      stream(
        `data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text: 'ok' }] }, finishReason: 'STOP' }] })}\n\n`,
      ),
    )
    // Without disable_parallel_tool_use, which Gemini cannot carry.
    expect((await post({ ...toolLoop, tool_choice: { type: 'auto' }, model: 'gemini', top_k: 40 })).status).toBe(200)
    expect(sent[0]!.body).toMatchObject({
      generationConfig: { topK: 40, thinkingConfig: { includeThoughts: true, thinkingBudget: 2048 } },
    })
    // A failed tool's result as Gemini's documented `error`.
    const parts = (sent[0]!.body as { contents: Array<{ parts: object[] }> }).contents.flatMap((c) => c.parts)
    expect(parts).toContainEqual({
      functionResponse: { id: 'toolu_2', name: 'get_weather', response: { error: 'timeout' } },
    })
  })
})

describe('an image in a tool result', () => {
  const screenshot = {
    model: 'claude',
    max_tokens: 100,
    messages: [
      { role: 'user', content: 'Take a screenshot.' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_s', name: 'screenshot', input: {} }] },
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: 'toolu_s',
            content: [
              { type: 'text', text: 'The screen:' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
            ],
          },
        ],
      },
    ],
    tools: [{ name: 'screenshot', input_schema: { type: 'object' } }],
  }

  it('reaches an Anthropic model as the blocks it came as', async () => {
    provider(stream(anthropicRecordings['basic_response.sse']!))
    expect((await post(screenshot)).status).toBe(200)
    expect((sent[0]!.body as { messages: object[] }).messages.at(-1)).toEqual({
      role: 'user',
      content: [
        {
          type: 'tool_result',
          tool_use_id: 'toolu_s',
          content: [
            { type: 'text', text: 'The screen:' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
          ],
        },
      ],
    })
  })

  it('is refused by name for a model whose provider takes only text there', async () => {
    provider(stream('data: [DONE]\n\n'))
    const error = await anthropicError(await post({ ...screenshot, model: 'gpt' }), 400)
    expect(error.message).toMatch(/^messages\.2\.content\.0\.content\.1: OpenAI-compatible models take no images/)
    expect(sent).toHaveLength(0)
  })
})

describe('/v1/messages refuses what it cannot carry, in Anthropic’s shape, naming it', () => {
  const hi = { model: 'demo', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }
  it.each([
    ['max_tokens', { max_tokens: undefined }],
    ['model', { model: undefined }],
    ['container', { container: 'c_1' }],
    ['mcp_servers', { mcp_servers: [{ type: 'url', url: 'https://mcp.example.com', name: 'x' }] }],
    ['tools.0.type', { tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 3 }] }],
    ['tools.0.type', { tools: [{ type: 'bash_20250124', name: 'bash' }] }],
    ['output_config.format', { output_config: { format: { type: 'json_schema', schema: {} } } }],
    ['temperature', { temperature: 1.5 }],
    ['stop_sequences', { stop_sequences: 'END' }],
    ['thinking.budget_tokens', { thinking: { type: 'enabled', budget_tokens: 10 } }],
    [
      'messages.0.content.0',
      { messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', data: 'x' } }] }] },
    ],
    [
      'messages.0.content.1.content.0',
      {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'x' },
              {
                type: 'tool_result',
                tool_use_id: 't',
                content: [{ type: 'image', source: { type: 'url', url: 'x' } }],
              },
            ],
          },
        ],
      },
    ],
    [
      'messages.0.content.0.source',
      {
        messages: [
          {
            role: 'user',
            content: [{ type: 'image', source: { type: 'base64', media_type: 'image/bmp', data: 'AA' } }],
          },
        ],
      },
    ],
  ])('400 invalid_request_error naming %s', async (path, extra) => {
    const error = await anthropicError(await post({ ...hi, ...extra }), 400)
    expect(error.type).toBe('invalid_request_error')
    expect(error.message.startsWith(`${path}`)).toBe(true)
  })

  it('accepts metadata, cache_control and the anthropic-beta header, which change nothing', async () => {
    const response = await post(
      {
        ...hi,
        // Room for the whole demo answer (about 150 tokens of Markdown), so it ends in end_turn.
        max_tokens: 1000,
        metadata: { user_id: 'u' },
        system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
      },
      { headers: { 'anthropic-beta': 'interleaved-thinking-2025-05-14' } },
    )
    expect(response.status).toBe(200)
    expect(response.headers.get('request-id')).toMatch(/^req_/)
    expect(await response.json()).toMatchObject({ type: 'message', role: 'assistant', stop_reason: 'end_turn' })
  })
})

describe('/v1/messages errors', () => {
  const hi = { model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }

  it('401 authentication_error for a bad key, by x-api-key or Bearer; a good x-api-key is let in', async () => {
    const bad = generateApiKey()
    expect((await anthropicError(await post(hi, { headers: { 'x-api-key': bad } }), 401)).type).toBe(
      'authentication_error',
    )
    expect((await anthropicError(await post(hi, { headers: { Authorization: `Bearer ${bad}` } }), 401)).type).toBe(
      'authentication_error',
    )
    const ok = await post({ ...hi, model: 'demo' }, { headers: { 'x-api-key': key } })
    expect(ok.status).toBe(200)
  })

  it('404 not_found_error for an unknown model, and for a path under /v1/messages it does not have', async () => {
    expect((await anthropicError(await post({ ...hi, model: 'claude-9' }), 404)).type).toBe('not_found_error')
    expect((await anthropicError(await post(hi, { path: '/v1/messages/batches' }), 404)).type).toBe('not_found_error')
  })

  it('413 request_too_large, and 400 for a body that is not JSON', async () => {
    const big = { ...hi, messages: [{ role: 'user', content: 'x'.repeat(70_000) }] }
    expect((await anthropicError(await post(big), 413)).type).toBe('request_too_large')
    expect((await anthropicError(await post('{"model":'), 400)).type).toBe('invalid_request_error')
  })

  it('529 overloaded_error for an overloaded upstream; 429 rate_limit_error with its retry-after', async () => {
    const refusal = (status: number, type: string) => () =>
      new Response(JSON.stringify({ type: 'error', error: { type, message: 'Busy' } }), {
        status,
        headers: { 'Content-Type': 'application/json', 'Retry-After': '7' },
      })
    provider(refusal(529, 'overloaded_error'))
    expect((await anthropicError(await post(hi), 529)).type).toBe('overloaded_error')
    provider(refusal(429, 'rate_limit_error'))
    const limited = await post(hi)
    expect(limited.headers.get('retry-after')).toBe('7')
    expect((await anthropicError(limited, 429)).type).toBe('rate_limit_error')
    provider(refusal(500, 'api_error'))
    expect((await anthropicError(await post(hi), 502)).type).toBe('api_error')
  })

  it('405 for a GET, with a request-id', async () => {
    const response = await app.request('/v1/messages', {}, await environment())
    expect(response.status).toBe(405)
    expect(response.headers.get('request-id')).toMatch(/^req_/)
  })
})

describe('the non-streaming message', () => {
  it('is the whole message: text, then the tool call with its input parsed, stop reason and usage', async () => {
    provider(stream(anthropicRecordings['tool_use_response.sse']!))
    const response = await post({ ...toolLoop, model: 'claude', stream: false })
    expect(response.status).toBe(200)
    expect(response.headers.get('request-id')).toMatch(/^req_/)
    expect(await response.json()).toEqual({
      id: expect.stringMatching(/^msg_/),
      type: 'message',
      role: 'assistant',
      model: 'claude',
      content: [
        { type: 'text', text: "I'll check the current weather in Paris for you." },
        { type: 'tool_use', id: 'toolu_01NRLabsLyVHZPKxbKvkfSMn', name: 'get_weather', input: { location: 'Paris' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 377, output_tokens: 65 },
    })
  })

  it('keeps thinking blocks with their signatures', async () => {
    provider(stream(anthropicRecordings['stream-a-refusal.sse']!))
    const body = (await (await post({ ...toolLoop, model: 'claude', stream: false })).json()) as {
      content: Array<{ type: string; signature?: string }>
      stop_reason: string
    }
    expect(body.content[0]).toMatchObject({
      type: 'thinking',
      signature: 'c3ludGhldGljLXNpZ25hdHVyZS1maXh0dXJlLWEtbm90LWEtcmVhbC1zaWduYXR1cmU=',
    })
    expect(body.stop_reason).toBe('refusal')
  })

  it('is an api_error, never a message, when the upstream fails halfway', async () => {
    const cut = anthropicRecordings['basic_response.sse']!.split('event: content_block_stop')[0]!
    provider(stream(cut))
    expect((await anthropicError(await post({ ...toolLoop, model: 'claude', stream: false }), 502)).type).toBe(
      'api_error',
    )
  })
})

describe('count_tokens', () => {
  const request = { model: 'claude', messages: [{ role: 'user', content: 'Hello, how are you?' }], tools: [weather] }

  it('is Anthropic’s own count for an Anthropic model', async () => {
    provider(() => Response.json({ input_tokens: 42 }))
    const response = await post(request, { path: '/v1/messages/count_tokens' })
    expect(await response.json()).toEqual({ input_tokens: 42 })
    expect(response.headers.get('x-token-count')).toBe('provider')
    expect(sent[0]!.url).toBe('https://api.anthropic.com/v1/messages/count_tokens')
    expect(sent[0]!.headers.get('x-api-key')).toBe('sk-upstream')
    expect(sent[0]!.body).toEqual({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'Hello, how are you?' }],
      tools: [weather],
    })
  })

  it('counts the caller’s own body for an Anthropic model: what the translation cannot carry, and the beta', async () => {
    provider(() => Response.json({ input_tokens: 1500 }))
    const document = { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'A memo.' } }
    const body = {
      ...request,
      system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: [document, { type: 'text', text: 'Summarise.' }] }],
      context_management: { edits: [] },
    }
    const response = await post(body, {
      path: '/v1/messages/count_tokens',
      headers: { 'anthropic-beta': 'context-management-2025-06-27' },
    })
    expect(await response.json()).toEqual({ input_tokens: 1500 })
    expect(response.headers.get('X-Gateway-Ignored')).toBeNull()
    expect(sent[0]!.body).toEqual({ ...body, model: 'claude-sonnet-4-5' })
    expect(sent[0]!.headers.get('anthropic-beta')).toBe('context-management-2025-06-27')
  })

  it('is an estimate, said to be one, for any other model', async () => {
    const response = await post({ ...request, model: 'demo' }, { path: '/v1/messages/count_tokens' })
    expect(response.status).toBe(200)
    expect(response.headers.get('x-token-count')).toBe('estimate')
    const { input_tokens } = (await response.json()) as { input_tokens: number }
    // What a budget reserves for the same request: the message and the tool's JSON, counted once.
    const prompt = Math.ceil('Hello, how are you?'.length / 4)
    expect(input_tokens).toBeGreaterThan(prompt)
    const asChat = {
      messages: [{ role: 'user' as const, content: 'Hello, how are you?' }],
      tools: [
        {
          type: 'function' as const,
          function: { name: weather.name, description: weather.description, parameters: weather.input_schema },
        },
      ],
    }
    expect(input_tokens).toBe(estimatePromptTokens(asChat))
  })

  it('refuses max_tokens, which count_tokens does not take', async () => {
    const response = await post({ ...request, max_tokens: 5 }, { path: '/v1/messages/count_tokens' })
    expect((await anthropicError(response, 400)).message).toMatch(/^max_tokens/)
  })
})
