import { afterEach, describe, expect, it, vi } from 'vitest'
import app from '../../src/index'
import { toChatCompletionsBody } from '../../src/providers/openai'
import { openAITools } from '../../src/providers/openai-messages'
import type { ChatRequest } from '../../src/request/chat-request'
import { asEnv } from '../helpers/env'
import { anthropicRecordings } from '../helpers/fixtures'

/**
 * `cache_control` in the gateway's own request shape (text parts and tools, as OpenRouter and
 * LiteLLM take it), on `/v1/chat/completions`: emitted as Anthropic's prompt-cache breakpoints
 * for an Anthropic model (`fetch` stands in for Anthropic, and records what it was sent), left
 * out and named in `X-Gateway-Ignored` for a model of another family that gets a translation.
 */

const env = asEnv({
  DEFAULT_MODEL: 'claude',
  MODELS: {
    claude: { adapter: 'anthropic', upstream_model: 'claude-sonnet-4-5', api_key_secret: 'KEY', max_tokens: 1024 },
    demo: { adapter: 'demo', token_delay_ms: 0 },
  },
  ANONYMOUS_MODELS: 'claude, demo',
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

  it('is left out for a model of another family, and named', async () => {
    // An `openai` model would get the caller's own body (pass-through); the demo model has no such mark.
    const response = await post(marked('demo'))
    expect(response.status).toBe(200)
    await response.text()
    expect(response.headers.get('X-Gateway-Ignored')).toBe('cache_control')
  })

  it('never reaches an OpenAI-compatible upstream through a translation', () => {
    const request = marked('gpt') as unknown as ChatRequest
    const body = toChatCompletionsBody('gpt-4o', { ...request, tools: openAITools(request.tools) })
    expect(JSON.stringify(body)).not.toContain('cache_control')
    expect(body.messages).toEqual([
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
