import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Anthropic from '@anthropic-ai/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { TestUpstream } from './upstream-server'
import { applyLedgerMigrations, startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * Issue 25 under `wrangler dev` (local queue and D1): `/v1/messages` to an `anthropic` model
 * reaches a loopback Anthropic-shaped upstream as the caller sent it, `cache_control`,
 * `context_management` and `anthropic-beta` included; the provider's refusal comes back in
 * Anthropic's shape; a cache read the upstream reports reaches the client (`@anthropic-ai/sdk`,
 * streaming and not) and the ledger, priced at `cache_read`; a cut stream still ends in an error
 * event; and a fallback of another family still answers, through the translation.
 */
const PRICE = { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 }
const keys = { agent: generateApiKey(), ledger: generateApiKey() }

let upstream: TestUpstream
let gateway: WranglerDev
let persistTo: string
let client: Anthropic

beforeAll(async () => {
  upstream = new TestUpstream()
  const upstreamUrl = await upstream.start()
  persistTo = mkdtempSync(join(tmpdir(), 'gateway-anthropic-pass-'))
  await applyLedgerMigrations(persistTo)
  const once = { retries: 0, circuit_breaker: { failures: 1_000_000 } }
  gateway = await startWranglerDev(
    {
      DEFAULT_MODEL: 'claude',
      MODELS: JSON.stringify({
        claude: {
          adapter: 'anthropic',
          base_url: upstreamUrl,
          upstream_model: 'claude-upstream',
          api_key_secret: 'ANTHROPIC_KEY',
          max_tokens_ceiling: 8000,
          price: PRICE,
          ...once,
        },
        // Nothing listens on port 9: every request to it fails before an answer, so its fallback answers.
        'claude-down': {
          adapter: 'anthropic',
          base_url: 'http://127.0.0.1:9/v1',
          upstream_model: 'claude-upstream',
          api_key_secret: 'ANTHROPIC_KEY',
          fallbacks: ['upstream'],
          ...once,
        },
        upstream: { adapter: 'openai', base_url: upstreamUrl, upstream_model: 'test-model', ...once },
      }),
      API_KEYS: JSON.stringify({
        agent: { sha256: await hashApiKey(keys.agent), models: ['*'] },
        ledger: { sha256: await hashApiKey(keys.ledger), models: ['*'] },
      }),
    },
    { ANTHROPIC_KEY: 'sk-ant-upstream' },
    { persistTo },
  )
  client = new Anthropic({ baseURL: gateway.url, apiKey: keys.agent, maxRetries: 0 })
}, 120_000)

afterAll(async () => {
  await gateway?.stop()
  await upstream?.stop()
  if (persistTo) rmSync(persistTo, { recursive: true, force: true })
})

const BETA = 'context-management-2025-06-27,prompt-caching-scope-2026-01-05'

/** A Claude Code-like turn: cache marks on a system block, a message block and a tool; context editing. */
const agentTurn = (text: string, model = 'claude') => ({
  model,
  max_tokens: 32_000,
  system: [
    { type: 'text', text: 'You are an agent.' },
    { type: 'text', text: 'Work in /tmp.', cache_control: { type: 'ephemeral', ttl: '1h' } },
  ],
  messages: [{ role: 'user', content: [{ type: 'text', text, cache_control: { type: 'ephemeral' } }] }],
  tools: [
    {
      name: 'Read',
      description: 'Reads a file',
      input_schema: { type: 'object', properties: { file_path: { type: 'string' } } },
      cache_control: { type: 'ephemeral' },
    },
  ],
  context_management: { edits: [{ type: 'clear_tool_uses_20250919', keep: { type: 'tool_uses', value: 3 } }] },
  output_config: { effort: 'high' },
  metadata: { user_id: 'session-1' },
  stream: true,
})

const post = (body: object, key = keys.agent) =>
  fetch(`${gateway.url}/v1/messages`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'x-api-key': key,
      'anthropic-version': '2023-06-01',
      'anthropic-beta': BETA,
    },
    body: JSON.stringify(body),
  })

describe('/v1/messages to an anthropic model passes the caller’s body through', () => {
  it('reaches the upstream as sent: cache_control, context_management, anthropic-beta; only model, max_tokens, stream changed', async () => {
    const turn = agentTurn('hello')
    const response = await post(turn)
    expect(response.status).toBe(200)
    // Nothing dropped: every field reached the provider.
    expect(response.headers.get('X-Gateway-Ignored')).toBeNull()
    expect(await response.text()).toContain('"text":"hello"')
    const received = upstream.requests.at(-1)!
    expect(received.body).toEqual({ ...turn, model: 'claude-upstream', max_tokens: 8000, stream: true })
    expect(received.headers['anthropic-beta']).toBe(BETA)
    expect(received.headers['anthropic-version']).toBe('2023-06-01')
    expect(received.headers['x-api-key']).toBe('sk-ant-upstream')
  })

  it('a block the gateway cannot translate (a document) still reaches Anthropic', async () => {
    const document = { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'A memo.' } }
    const turn = {
      ...agentTurn('summarise'),
      messages: [{ role: 'user', content: [document, { type: 'text', text: 'summarise' }] }],
    }
    const response = await post(turn)
    expect(response.status).toBe(200)
    await response.text()
    expect(upstream.requests.at(-1)!.body.messages).toEqual(turn.messages)
  })

  it('the provider’s 400 comes back in Anthropic’s shape, its reason scrubbed and kept', async () => {
    const response = await post(agentTurn('status:400'))
    expect(response.status).toBe(400)
    expect(response.headers.get('request-id')).toMatch(/^req_/)
    const body = (await response.json()) as { type: string; error: { type: string; message: string } }
    expect(body.type).toBe('error')
    expect(body.error.type).toBe('invalid_request_error')
    expect(body.error.message).toContain('context_management.edits.0.type: Input tag is invalid')
  })

  it('a stream the upstream cuts short ends in an error event, never message_stop', async () => {
    const response = await post(agentTurn('truncate'))
    expect(response.status).toBe(200)
    const text = await response.text()
    expect(text).toContain('Cut short')
    expect(text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"api_error"/)
    expect(text).not.toContain('message_stop')
  })
})

describe('the prompt cache, as the client and the ledger see it', () => {
  const firstTurn = { model: 'claude', max_tokens: 100, messages: [{ role: 'user' as const, content: 'cached' }] }
  const secondTurn = {
    ...firstTurn,
    messages: [
      ...firstTurn.messages,
      { role: 'assistant' as const, content: 'Cached.' },
      { role: 'user' as const, content: 'cached' },
    ],
  }

  it('messages.create: a write on the first turn, a read on the second, input_tokens the uncached rest', async () => {
    const first = await client.messages.create(firstTurn)
    expect(first.usage).toMatchObject({ input_tokens: 20, cache_creation_input_tokens: 1000, output_tokens: 4 })
    const second = await client.messages.create(secondTurn)
    expect(second.usage).toMatchObject({ input_tokens: 20, cache_read_input_tokens: 1000, output_tokens: 4 })
  })

  it('messages.stream: the read in the final message’s usage', async () => {
    const message = await client.messages.stream(secondTurn).finalMessage()
    expect(message.content).toEqual([{ type: 'text', text: 'From the cache.' }])
    expect(message.usage).toMatchObject({ input_tokens: 20, cache_read_input_tokens: 1000, output_tokens: 4 })
  })

  it('Chat Completions names the read cached_tokens, a part of prompt_tokens', async () => {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${keys.agent}` },
      body: JSON.stringify({
        model: 'claude',
        messages: [
          { role: 'user', content: 'x' },
          { role: 'assistant', content: 'y' },
          { role: 'user', content: 'cached' },
        ],
      }),
    })
    expect(((await response.json()) as { usage: object }).usage).toEqual({
      prompt_tokens: 1020,
      completion_tokens: 4,
      total_tokens: 1024,
      prompt_tokens_details: { cached_tokens: 1000 },
    })
  })

  it('the ledger keeps the read and prices it at cache_read', async () => {
    const ledgerClient = new Anthropic({ baseURL: gateway.url, apiKey: keys.ledger, maxRetries: 0 })
    await ledgerClient.messages.create(secondTurn)
    let day: Record<string, number> | undefined
    // The local queue hands its consumer a batch within max_batch_timeout (5 s).
    await expect
      .poll(
        async () => {
          const response = await fetch(`${gateway.url}/api/usage?days=1`, {
            headers: { Authorization: `Bearer ${keys.ledger}` },
          })
          day = ((await response.json()) as { days: Array<Record<string, number>> }).days[0]
          return day?.requests ?? 0
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe(1)
    expect(day).toMatchObject({
      prompt_tokens: 1020,
      cache_read_tokens: 1000,
      cache_write_tokens: 0,
      completion_tokens: 4,
    })
    // 20 uncached at $3, 1,000 read at $0.30, 4 out at $15, per million.
    expect(day!.cost_usd).toBeCloseTo((20 * 3 + 1000 * 0.3 + 4 * 15) / 1e6, 10)
  })
})

describe('a fallback of another family', () => {
  it('still answers, through the translation: no cache marks or context editing reach it', async () => {
    const response = await post(agentTurn('fell back', 'claude-down'))
    expect(response.status).toBe(200)
    expect(await response.text()).toContain('echo: fell back')
    const received = upstream.requests.at(-1)!
    expect(received.body.model).toBe('test-model')
    expect(JSON.stringify(received.body)).not.toContain('cache_control')
    expect(received.body).not.toHaveProperty('context_management')
  })

  it('is not tried for a request holding what the translation left out: it would answer blind to it', async () => {
    const document = { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'A memo.' } }
    const before = upstream.requests.length
    const turn = {
      ...agentTurn('x', 'claude-down'),
      messages: [{ role: 'user', content: [document, { type: 'text', text: 'x' }] }],
    }
    const response = await post(turn)
    expect(response.status).toBe(502)
    expect(((await response.json()) as { type: string }).type).toBe('error')
    expect(upstream.requests.length).toBe(before)
  })
})
