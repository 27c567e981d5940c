import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { TestUpstream } from './upstream-server'
import { applyLedgerMigrations, startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * The usage ledger end to end under `wrangler dev`: answers from two keys and an anonymous caller
 * on several surfaces go through the local queue into the local D1 (in a state directory of this
 * test's own, migrated first as `npm run dev` does), and come back out of `/api/usage`
 * and `/api/admin/usage` (the `/admin` dashboard is admin-dashboard.test.ts's).
 */
// USD per million tokens: odd figures, so a cost computed from the wrong tokens cannot match.
const PRICE = { input: 1, output: 2, reasoning: 4 }
const alice = generateApiKey()
const bob = generateApiKey()
const ops = generateApiKey()

let upstream: TestUpstream
let gateway: WranglerDev

beforeAll(async () => {
  upstream = new TestUpstream()
  const upstreamUrl = await upstream.start()
  const persistTo = mkdtempSync(join(tmpdir(), 'gateway-usage-'))
  await applyLedgerMigrations(persistTo)
  gateway = await startWranglerDev(
    {
      DEFAULT_MODEL: 'upstream',
      MODELS: JSON.stringify({
        upstream: { adapter: 'openai', base_url: upstreamUrl, upstream_model: 'test-model', price: PRICE },
        demo: { adapter: 'demo', token_delay_ms: 1 },
      }),
      ANONYMOUS_MODELS: 'upstream, demo',
      API_KEYS: JSON.stringify({
        alice: { sha256: await hashApiKey(alice), models: ['*'] },
        bob: { sha256: await hashApiKey(bob), models: ['*'], daily_tokens: 1000 },
        ops: { sha256: await hashApiKey(ops), models: ['*'], admin: true },
      }),
    },
    {},
    { persistTo, args: ['--test-scheduled'] },
  )
  await answerEverywhere()
}, 180_000)

afterAll(async () => {
  await gateway?.stop()
  await upstream?.stop()
})

const bearer = (key: string) => ({ Authorization: `Bearer ${key}` })
const ask = (content: string, extra: object = {}) => ({ messages: [{ role: 'user', content }], ...extra })

async function post(path: string, body: object, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
}

/**
 * The test upstream answers "hello" with 5 prompt and 3 completion tokens, "reasoning" with 5
 * prompt and 20 completion tokens of which 17 reasoning. So:
 * alice: /api/chat hello, /v1 non-streaming hello, /api/streams reasoning = 15 / 26 (17) tokens;
 * bob: /v1 streaming through the OpenAI SDK, hello = 5 / 3; anonymous: /api/chat twice = 10 / 6.
 */
async function answerEverywhere(): Promise<void> {
  await (await post('/api/chat', ask('hello'), bearer(alice))).text()
  await (await post('/v1/chat/completions', { model: 'upstream', ...ask('hello') }, bearer(alice))).json()
  const stream = (await (await post('/api/streams', ask('reasoning'), bearer(alice))).json()) as { url: string }
  // Read with the same key: a stream made with credentials answers only its principal.
  expect(await (await fetch(stream.url, { headers: bearer(alice) })).text()).toContain('event: done')
  const sdk = new OpenAI({ apiKey: bob, baseURL: `${gateway.url}/v1` })
  for await (const chunk of await sdk.chat.completions.create({
    model: 'upstream',
    stream: true,
    messages: [{ role: 'user', content: 'hello' }],
  })) {
    void chunk
  }
  await (await post('/api/chat', ask('hello'))).text()
  await (await post('/api/chat', ask('hello'))).text()
}

const costOf = (prompt: number, completion: number, reasoning = 0) =>
  Math.round((prompt * PRICE.input + (completion - reasoning) * PRICE.output + reasoning * PRICE.reasoning) * 100) / 1e8

async function getJson<T>(path: string, key?: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`${gateway.url}${path}`, { headers: key ? bearer(key) : {} })
  return { status: response.status, body: (await response.json()) as T }
}

interface Row {
  principal?: string
  kind?: string
  model?: string
  requests: number
  prompt_tokens: number
  completion_tokens: number
  reasoning_tokens: number
  cost_usd: number
  errors: number
  ttft_ms_p50: number | null
  ttft_ms_p95: number | null
}

describe('the usage ledger under wrangler dev', () => {
  it('has every answer, by principal, with the right tokens and cost', async () => {
    // The local queue hands its consumer a batch within max_batch_timeout (5 s).
    let rows: Row[] = []
    await expect
      .poll(
        async () => {
          rows = (await getJson<{ rows: Row[] }>('/api/admin/usage?group_by=principal', ops)).body.rows
          return rows.reduce((sum, row) => sum + row.requests, 0)
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe(6)
    const pick = ({
      kind,
      principal,
      requests,
      prompt_tokens,
      completion_tokens,
      reasoning_tokens,
      cost_usd,
    }: Row) => ({
      kind,
      principal,
      requests,
      prompt_tokens,
      completion_tokens,
      reasoning_tokens,
      cost_usd,
    })
    expect(rows.map(pick)).toEqual([
      {
        kind: 'anonymous',
        principal: 'anonymous',
        requests: 2,
        prompt_tokens: 10,
        completion_tokens: 6,
        reasoning_tokens: 0,
        cost_usd: costOf(10, 6),
      },
      {
        kind: 'key',
        principal: 'alice',
        requests: 3,
        prompt_tokens: 15,
        completion_tokens: 26,
        reasoning_tokens: 17,
        cost_usd: costOf(15, 26, 17),
      },
      {
        kind: 'key',
        principal: 'bob',
        requests: 1,
        prompt_tokens: 5,
        completion_tokens: 3,
        reasoning_tokens: 0,
        cost_usd: costOf(5, 3),
      },
    ])
    const byModel = (await getJson<{ rows: Row[] }>('/api/admin/usage?group_by=model', ops)).body.rows
    expect(byModel).toEqual([
      expect.objectContaining({ model: 'upstream', requests: 6, errors: 0, ttft_ms_p50: expect.any(Number) }),
    ])
  })

  it('shows each key its own usage and budget, refuses the anonymous caller, and admin to a non-admin', async () => {
    const today = new Date().toISOString().slice(0, 10)
    const own = await getJson<{ principal: string; budget: unknown; days: unknown[] }>('/api/usage?days=1', alice)
    expect(own.body).toEqual({
      principal: 'alice',
      budget: null,
      days: [
        {
          date: today,
          model: 'upstream',
          requests: 3,
          prompt_tokens: 15,
          completion_tokens: 26,
          reasoning_tokens: 17,
          cache_read_tokens: 0,
          cache_write_tokens: 0,
          cost_usd: costOf(15, 26, 17),
          saved_usd: 0,
          errors: 0,
        },
      ],
    })
    const budgeted = await getJson<{ budget: { daily_tokens: number; used_today: number } }>('/api/usage', bob)
    expect(budgeted.body.budget).toMatchObject({ daily_tokens: 1000, used_today: 8, remaining_today: 992 })
    expect((await getJson('/api/usage')).status).toBe(401)
    const refused = await getJson<{ error: { code: string } }>('/api/admin/usage', alice)
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('forbidden')
  })

  it('runs its retention on the Cron Trigger (wrangler dev --test-scheduled), keeping recent days', async () => {
    const response = await fetch(`${gateway.url}/__scheduled?cron=${encodeURIComponent('17 3 * * *')}`)
    expect(response.status).toBe(200)
    await expect.poll(() => gateway.logs()).toMatch(/"msg":"usage ledger retention".*"rolledUp":0.*"retentionDays":90/)
    const rows = (await getJson<{ rows: Row[] }>('/api/admin/usage?group_by=outcome', ops)).body.rows
    expect(rows).toEqual([expect.objectContaining({ requests: 6 })])
  })
})
