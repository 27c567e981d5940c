import { env as bindings } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import app from '../../src/index'
import { idTag } from '../../src/log'
import { claims, signJwt } from '../helpers/jwt'
import { asEnv } from '../helpers/env'

/**
 * The usage routes through the real app in workerd: answers on several surfaces go through the
 * real USAGE_QUEUE to the Worker's own consumer and into the local D1, and come back out of
 * `GET /api/usage` and `GET /api/admin/usage`.
 */
const JWT_SECRET = 'shared-with-the-backend-0123456789abcdef'
const ISSUER = 'https://id.example.com'
// A priced stand-in for a paid model: the demo reports usage (prompt estimate, one token a word).
const MODELS = {
  demo: { adapter: 'demo', token_delay_ms: 0 },
  priced: { adapter: 'demo', token_delay_ms: 0, price: { input: 2, output: 10 } },
  // Nothing listens on port 1: every request to it is refused before the answer begins.
  down: {
    adapter: 'openai',
    base_url: 'http://127.0.0.1:1/v1',
    upstream_model: 'down',
    price: { input: 2, output: 10 },
  },
}
const worker = generateApiKey()
const budgeted = generateApiKey()
const operator = generateApiKey()

let environment: Env
beforeAll(async () => {
  environment = asEnv({
    ...bindings,
    DEFAULT_MODEL: 'demo',
    MODELS,
    ANONYMOUS_MODELS: 'demo',
    API_KEYS: {
      worker: { sha256: await hashApiKey(worker), models: ['*'] },
      budgeted: { sha256: await hashApiKey(budgeted), models: ['*'], daily_tokens: 100_000 },
      operator: { sha256: await hashApiKey(operator), models: ['*'], admin: true },
    },
    JWT: { hs256_secret: 'JWT_SECRET', issuer: ISSUER, audience: 'gateway', models: ['demo'] },
    JWT_SECRET,
    ADMIN_SUBJECTS: 'root-user, other',
  })
})

const bearer = (credential: string) => ({ Authorization: `Bearer ${credential}` })
const get = (path: string, headers: Record<string, string> = {}) => app.request(path, { headers }, environment)
const post = (path: string, body: object, headers: Record<string, string> = {}) =>
  app.request(
    path,
    { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) },
    environment,
  )
const ask = (model: string, extra: object = {}) => ({ model, messages: [{ role: 'user', content: 'hi' }], ...extra })
const jwt = (sub: string) => signJwt(claims({ iss: ISSUER, sub }), { secret: JWT_SECRET })

interface Day {
  date: string
  model: string
  requests: number
  prompt_tokens: number
  completion_tokens: number
  cost_usd: number
}

/** The caller's days once the ledger has `requests` answers for it (the queue delivers in batches). */
async function daysOnceRecorded(credential: string, requests: number): Promise<Day[]> {
  let days: Day[] = []
  await expect
    .poll(
      async () => {
        days = ((await (await get('/api/usage', bearer(credential))).json()) as { days: Day[] }).days
        return days.reduce((sum, day) => sum + day.requests, 0)
      },
      { timeout: 20_000, interval: 250 },
    )
    .toBe(requests)
  return days
}

// The queue hands the consumer a batch at most 5 s after its first message (wrangler.toml).
describe('GET /api/usage', { timeout: 30_000 }, () => {
  it('refuses a caller without credentials (401) and a bad days (400)', async () => {
    expect((await get('/api/usage')).status).toBe(401)
    const bad = await get('/api/usage?days=0', bearer(worker))
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ error: { code: 'invalid_request', issues: [{ path: 'days' }] } })
  })

  it('shows the caller’s answers on every surface, with their tokens and cost', async () => {
    await (await post('/api/chat', ask('priced'), bearer(worker))).text()
    const completion = (await (await post('/v1/chat/completions', ask('priced'), bearer(worker))).json()) as {
      usage: { prompt_tokens: number; completion_tokens: number }
    }
    const created = (await (await post('/api/streams', ask('demo'), bearer(worker))).json()) as { url: string }
    await (await get(new URL(created.url).pathname)).text()
    const anthropic = await post('/v1/messages', { ...ask('demo'), max_tokens: 100 }, bearer(worker))
    expect(anthropic.status).toBe(200)
    await anthropic.json()
    // Someone else's answer is not the caller's.
    await (await post('/api/chat', ask('priced'), bearer(operator))).text()

    const days = await daysOnceRecorded(worker, 4)
    const today = new Date().toISOString().slice(0, 10)
    const { prompt_tokens, completion_tokens } = completion.usage
    expect(days).toEqual([
      expect.objectContaining({ date: today, model: 'demo', requests: 2, cost_usd: 0 }),
      expect.objectContaining({
        date: today,
        model: 'priced',
        requests: 2,
        prompt_tokens: 2 * prompt_tokens,
        completion_tokens: 2 * completion_tokens,
        // $2 and $10 per million tokens
        cost_usd: Math.round((2 * (prompt_tokens * 2 + completion_tokens * 10)) / 1e6 / 1e-8) * 1e-8,
      }),
    ])
    const stored = await bindings.USAGE_DB.prepare(
      `SELECT route, stream_id FROM usage_records WHERE principal = 'worker' ORDER BY route`,
    ).all()
    expect(stored.results).toEqual([
      { route: '/api/chat', stream_id: null },
      // The stream's tag, as the log has it: never the id, which reads and stops the answer.
      { route: '/api/streams', stream_id: idTag(new URL(created.url).pathname.split('/').pop()!) },
      { route: '/v1/chat/completions', stream_id: null },
      { route: '/v1/messages', stream_id: null },
    ])
  })

  it('gives the budget from the principal’s limits object, and null without one', async () => {
    await (await post('/api/chat', ask('demo'), bearer(budgeted))).text()
    await daysOnceRecorded(budgeted, 1)
    const body = (await (await get('/api/usage?days=7', bearer(budgeted))).json()) as {
      principal: string
      budget: { daily_tokens: number; used_today: number; remaining_today: number; resets_at: string }
      days: Day[]
    }
    const used = body.days[0]!.prompt_tokens + body.days[0]!.completion_tokens
    expect(body.principal).toBe('budgeted')
    expect(body.budget).toEqual({
      daily_tokens: 100_000,
      used_today: used,
      remaining_today: 100_000 - used,
      resets_at: new Date(Math.ceil((Date.now() + 1) / 86_400_000) * 86_400_000).toISOString(),
    })
    const unbudgeted = (await (await get('/api/usage', bearer(worker))).json()) as { budget: unknown }
    expect(unbudgeted.budget).toBeNull()
  })
})

describe('GET /api/admin/usage', { timeout: 30_000 }, () => {
  it('is for admins only: 401 without credentials, 403 for a key or token that is not one', async () => {
    expect((await get('/api/admin/usage')).status).toBe(401)
    const refused = await get('/api/admin/usage', bearer(worker))
    expect(refused.status).toBe(403)
    expect(await refused.json()).toMatchObject({ error: { code: 'forbidden' } })
    expect((await get('/api/admin/usage', bearer(await jwt('someone')))).status).toBe(403)
    expect((await get('/api/admin/usage', bearer(await jwt('root-user')))).status).toBe(200)
    expect((await get('/api/admin/usage', bearer(operator))).status).toBe(200)
  })

  it('lists everyone’s answers by principal, anonymous callers as `anonymous`', async () => {
    await (await post('/api/chat', ask('demo'))).text()
    await expect
      .poll(
        async () => {
          const response = await get('/api/admin/usage?group_by=principal', bearer(operator))
          const { rows } = (await response.json()) as { rows: Array<{ principal: string; kind: string }> }
          return rows.map((row) => `${row.kind}:${row.principal}`)
        },
        { timeout: 20_000, interval: 250 },
      )
      .toContain('anonymous:anonymous')
  })

  it('counts an answer every upstream refused as an error, with its code and status, costing nothing', async () => {
    expect((await post('/api/chat', ask('down'), bearer(worker))).status).toBe(502)
    expect((await post('/api/streams', ask('down'), bearer(worker))).status).toBe(502)
    let rows: Array<{ error_code: string | null; requests: number; cost_usd: number }> = []
    await expect
      .poll(
        async () => {
          const response = await get('/api/admin/usage?group_by=model,error_code', bearer(operator))
          rows = ((await response.json()) as { rows: typeof rows & Array<{ model: string }> }).rows.filter(
            (row) => (row as { model?: string }).model === 'down',
          )
          return rows
        },
        { timeout: 20_000, interval: 250 },
      )
      .toEqual([expect.objectContaining({ error_code: 'upstream_unavailable', requests: 2, cost_usd: 0, errors: 2 })])
    const stored = await bindings.USAGE_DB.prepare(
      `SELECT route, status, outcome, prompt_tokens, estimated FROM usage_records WHERE model = 'down' ORDER BY route`,
    ).all()
    expect(stored.results).toEqual([
      { route: '/api/chat', status: 502, outcome: 'error', prompt_tokens: 0, estimated: 0 },
      { route: '/api/streams', status: 502, outcome: 'error', prompt_tokens: 0, estimated: 0 },
    ])
  })

  it('refuses a bad range or group with 400, naming each problem', async () => {
    const response = await get('/api/admin/usage?from=2026-02-30&to=yesterday&group_by=model,colour', bearer(operator))
    expect(response.status).toBe(400)
    const { error } = (await response.json()) as { error: { issues: Array<{ path: string }> } }
    expect(error.issues.map((issue) => issue.path)).toEqual(['from', 'to', 'group_by'])
    const reversed = await get('/api/admin/usage?from=2026-11-02&to=2026-11-01', bearer(operator))
    expect(reversed.status).toBe(400)
  })
})

describe('GET /api/admin/filters and /api/admin/budgets', { timeout: 30_000 }, () => {
  const today = new Date().toISOString().slice(0, 10)

  it('offers what the ledger holds in the range as filter choices, every surface among them', async () => {
    const response = await get(`/api/admin/filters?from=${today}&to=${today}`, bearer(operator))
    expect(response.status).toBe(200)
    const choices = (await response.json()) as Record<string, string[]>
    expect(choices.route).toEqual(['/api/chat', '/api/streams', '/v1/chat/completions', '/v1/messages'])
    expect(choices.principal).toEqual(expect.arrayContaining(['anonymous', 'budgeted', 'operator', 'worker']))
    expect(choices.model).toEqual(['demo', 'down', 'priced'])
    expect(choices.outcome).toEqual(['done', 'error'])
    expect(await (await get('/api/admin/filters?from=2026-01-01&to=2026-01-07', bearer(operator))).json()).toEqual({
      principal: [],
      model: [],
      route: [],
      outcome: [],
    })
    expect((await get('/api/admin/filters?from=yesterday', bearer(operator))).status).toBe(400)
    expect((await get('/api/admin/filters', bearer(worker))).status).toBe(403)
  })

  it('narrows the usage rows by surface', async () => {
    const rows = async (query: string) => {
      const response = await get(`/api/admin/usage?group_by=principal&${query}`, bearer(operator))
      return ((await response.json()) as { rows: Array<{ principal: string; requests: number }> }).rows
    }
    expect(await rows('route=/v1/messages')).toEqual([expect.objectContaining({ principal: 'worker', requests: 1 })])
    const streams = await rows('route=/api/streams&principal=worker')
    expect(streams).toEqual([expect.objectContaining({ principal: 'worker', requests: 2 })])
  })

  it('gives each key’s budget from its limits object, and the ledger’s tokens for a key without one', async () => {
    const response = await get('/api/admin/budgets', bearer(operator))
    expect(response.status).toBe(200)
    const body = (await response.json()) as { day: string; resets_at: string; rows: unknown[] }
    const mine = (await (await get('/api/usage', bearer(budgeted))).json()) as { budget: Record<string, number> }
    const ledger = (await (
      await get(`/api/admin/usage?group_by=principal&from=${today}&to=${today}`, bearer(operator))
    ).json()) as { rows: Array<{ principal: string; prompt_tokens: number; completion_tokens: number }> }
    const tokensOf = (name: string) => {
      const row = ledger.rows.find((r) => r.principal === name)!
      return row.prompt_tokens + row.completion_tokens
    }
    expect(tokensOf('worker')).toBeGreaterThan(0)
    expect(body).toEqual({
      day: today,
      resets_at: new Date(Math.ceil((Date.now() + 1) / 86_400_000) * 86_400_000).toISOString(),
      rows: [
        {
          kind: 'key',
          principal: 'budgeted',
          daily_tokens: 100_000,
          used_today: mine.budget.used_today,
          remaining_today: mine.budget.remaining_today,
          counted_by: 'limits',
        },
        {
          kind: 'key',
          principal: 'operator',
          daily_tokens: null,
          used_today: tokensOf('operator'),
          remaining_today: null,
          counted_by: 'ledger',
        },
        {
          kind: 'key',
          principal: 'worker',
          daily_tokens: null,
          used_today: tokensOf('worker'),
          remaining_today: null,
          counted_by: 'ledger',
        },
      ],
    })
    expect(mine.budget.used_today).toBeGreaterThan(0)
    expect((await get('/api/admin/budgets', bearer(budgeted))).status).toBe(403)
  })
})

describe('without the ledger’s bindings', () => {
  it('answers as ever; /api/usage has no days, /api/admin/usage says the ledger is not set up', async () => {
    const bare = asEnv({ ...environment, USAGE_QUEUE: undefined, USAGE_DB: undefined })
    const answer = await app.request(
      '/api/chat',
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...bearer(worker) },
        body: JSON.stringify(ask('demo')),
      },
      bare,
    )
    expect(answer.status).toBe(200)
    expect(await answer.text()).toContain('event: done')
    const usage = await app.request('/api/usage', { headers: bearer(worker) }, bare)
    expect(await usage.json()).toEqual({ principal: 'worker', budget: null, days: [] })
    const adminUsage = await app.request('/api/admin/usage', { headers: bearer(operator) }, bare)
    expect(adminUsage.status).toBe(503)
    expect(await adminUsage.json()).toMatchObject({ error: { code: 'ledger_unavailable' } })
    // Budgets come from the limits objects; only a key without one needed the ledger.
    const budgets = (await (await app.request('/api/admin/budgets', { headers: bearer(operator) }, bare)).json()) as {
      rows: Array<{ principal: string; used_today: number | null; counted_by: string }>
    }
    expect(budgets.rows.map((row) => [row.principal, row.counted_by, row.used_today === null])).toEqual([
      ['budgeted', 'limits', false],
      ['operator', 'ledger', true],
      ['worker', 'ledger', true],
    ])
  })
})
