import { afterEach, describe, expect, it, vi } from 'vitest'
import app from '../../src/index'
import { asEnv } from '../helpers/env'
import { anthropicRecordings } from '../helpers/fixtures'

/**
 * `cache_control` in the gateway's own request shape (text parts and tools, as OpenRouter and
 * LiteLLM take it), on `/v1/chat/completions`: emitted as Anthropic's prompt-cache breakpoints
 * for an Anthropic model, left out and named in `X-Gateway-Ignored` for any other (`fetch` stands
 * in for the providers, and records what each was sent).
 */

const env = asEnv({
  DEFAULT_MODEL: 'claude',
  MODELS: {
    claude: { adapter: 'anthropic', upstream_model: 'claude-sonnet-4-5', api_key_secret: 'KEY', max_tokens: 1024 },
    gpt: { adapter: 'openai', base_url: 'https://api.example.com/v1', upstream_model: 'gpt-4o', api_key_secret: 'KEY' },
  },
  ANONYMOUS_MODELS: 'claude, gpt',
  KEY: 'sk-upstream',
})

const sent: Array<Record<string, unknown>> = []

function provider(body: string) {
  sent.length = 0
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (_input, init) => {
    sent.push(JSON.parse(String(init?.body)) as Record<string, unknown>)
    return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } })
  })
}

afterEach(() => void vi.restoreAllMocks())

const mark = { type: 'ephemeral', ttl: '1h' }
const marked = (model: string) => ({
  model,
  stream: true,
  messages: [
    { role: 'system', content: [{ type: 'text', text: 'You are terse.', cache_control: mark }] },
    { role: 'user', content: [{ type: 'text', text: 'Long context.', cache_control: { type: 'ephemeral' } }] },
  ],
  tools: [
    {
      type: 'function',
      function: { name: 'read', parameters: { type: 'object', properties: {} } },
      cache_control: { type: 'ephemeral' },
    },
  ],
})

const post = (body: object) =>
  app.request(
    '/v1/chat/completions',
    { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
    env,
  )

describe('cache_control on /v1/chat/completions', () => {
  it('reaches an Anthropic model as its breakpoints: system block, text block, tool', async () => {
    provider(anthropicRecordings['basic_response.sse']!)
    const response = await post(marked('claude'))
    expect(response.status).toBe(200)
    await response.text()
    expect(response.headers.get('X-Gateway-Ignored')).toBeNull()
    expect(sent[0]).toMatchObject({
      system: [{ type: 'text', text: 'You are terse.', cache_control: mark }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Long context.', cache_control: { type: 'ephemeral' } }] },
      ],
      tools: [{ name: 'read', cache_control: { type: 'ephemeral' } }],
    })
  })

  it('is left out for an OpenAI-compatible model, and named', async () => {
    provider('data: {"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')
    const response = await post(marked('gpt'))
    expect(response.status).toBe(200)
    await response.text()
    expect(response.headers.get('X-Gateway-Ignored')).toBe('cache_control')
    expect(JSON.stringify(sent[0])).not.toContain('cache_control')
    expect(sent[0]!.messages).toEqual([
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: [{ type: 'text', text: 'Long context.' }] },
    ])
  })

  it('of a shape Anthropic does not have is refused by name', async () => {
    const body = marked('claude')
    body.tools[0]!.cache_control = { type: 'persistent' } as never
    const response = await post(body)
    expect(response.status).toBe(400)
    expect(await response.text()).toContain('tools.0.cache_control.type')
  })
})
