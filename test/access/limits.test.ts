import {
  createExecutionContext,
  env as bindings,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import app from '../../src/index'
import { eventsOf } from '../helpers/sse'
import { asEnv } from '../helpers/env'

/**
 * Daily token budgets and concurrent streams: the principal's Durable Object on its own, then
 * through the routes, with the real object from wrangler.toml.
 */
const env = bindings
const limitsOf = (principalId: string) => env.PRINCIPAL_LIMITS!.get(env.PRINCIPAL_LIMITS!.idFromName(principalId))
const unique = (name: string) => `${name}-${crypto.randomUUID().slice(0, 8)}`
const lease = (overrides: object = {}) => ({
  leaseId: crypto.randomUUID(),
  promptTokens: 10,
  ttlMs: 60_000,
  ...overrides,
})

describe('PrincipalLimits (the Durable Object)', () => {
  it('refuses a stream past concurrent_streams until one is settled', async () => {
    const limits = limitsOf(unique('concurrency'))
    const first = lease({ concurrentStreams: 2 })
    expect(await limits.admit(first)).toMatchObject({ ok: true })
    expect(await limits.admit(lease({ concurrentStreams: 2 }))).toMatchObject({ ok: true })
    expect(await limits.admit(lease({ concurrentStreams: 2 }))).toEqual({ ok: false, code: 'too_many_streams' })
    await limits.settle({ leaseId: first.leaseId, tokens: 5, estimated: false, partial: false })
    expect(await limits.admit(lease({ concurrentStreams: 2 }))).toMatchObject({ ok: true })
  })

  it('reserves prompt + max_tokens, lowers max_tokens to what is left, then refuses until the next UTC day', async () => {
    const limits = limitsOf(unique('budget'))
    const a = lease({ dailyTokens: 100, maxTokens: 50 })
    expect(await limits.admit(a)).toMatchObject({ ok: true, maxTokens: 50, reservedTokens: 60 })
    // 40 left: this answer may have 30 after its prompt, not the 50 it asked for.
    expect(await limits.admit(lease({ dailyTokens: 100, maxTokens: 50 }))).toMatchObject({
      ok: true,
      maxTokens: 30,
      reservedTokens: 40,
    })
    const refused = await limits.admit(lease({ dailyTokens: 100, maxTokens: 50 }))
    expect(refused).toMatchObject({ ok: false, code: 'budget_exhausted' })
    const secondsToMidnight = Math.ceil((Math.floor(Date.now() / 86_400_000 + 1) * 86_400_000 - Date.now()) / 1000)
    expect((refused as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(0)
    expect((refused as { retryAfterSeconds: number }).retryAfterSeconds).toBeLessThanOrEqual(secondsToMidnight + 1)

    // The first answer used 20 of its 60: the other 40 come back.
    await limits.settle({ leaseId: a.leaseId, tokens: 20, estimated: false, partial: false })
    expect(await limits.admit(lease({ dailyTokens: 100, maxTokens: 50 }))).toMatchObject({ ok: true, maxTokens: 30 })
    expect(await limits.usage()).toMatchObject({ tokens: 20, answers: 1, openStreams: 2, reservedTokens: 80 })
  })

  it('counts a settle once, however often it comes, and marks estimates and partial answers', async () => {
    const limits = limitsOf(unique('settle'))
    const a = lease()
    await limits.admit(a)
    for (let i = 0; i < 3; i++) await limits.settle({ leaseId: a.leaseId, tokens: 42, estimated: true, partial: true })
    expect(await limits.usage()).toMatchObject({
      tokens: 42,
      estimatedTokens: 42,
      answers: 1,
      partialAnswers: 1,
      openStreams: 0,
    })
  })

  it('frees the slot of a lease nobody settles once its TTL passes, charging its reservation as an estimate', async () => {
    const limits = limitsOf(unique('expiry'))
    const forgotten = lease({ concurrentStreams: 1, maxTokens: 30, ttlMs: 0 })
    await limits.admit(forgotten)
    expect(await limits.admit(lease({ concurrentStreams: 1 }))).toMatchObject({ ok: true })
    expect(await limits.usage()).toMatchObject({ tokens: 40, estimatedTokens: 40, expiredLeases: 1, openStreams: 1 })
    // A late settle replaces the estimate with the real figure, and only once.
    await limits.settle({ leaseId: forgotten.leaseId, tokens: 15, estimated: false, partial: false })
    await limits.settle({ leaseId: forgotten.leaseId, tokens: 15, estimated: false, partial: false })
    expect(await limits.usage()).toMatchObject({ tokens: 15 })
  })

  it('expires leases from its alarm too, with no request needed', async () => {
    const limits = limitsOf(unique('alarm'))
    await limits.admit(lease({ concurrentStreams: 1, ttlMs: 60_000 }))
    const states = () =>
      runInDurableObject(limits, (_, state: DurableObjectState) =>
        state.storage.sql
          .exec<{ state: string }>('SELECT state FROM leases')
          .toArray()
          .map((row) => row.state),
      )
    expect(await states()).toEqual(['open'])
    // Its time passes (without a real wait): the alarm, set for the expiry, finds it and frees it.
    await runInDurableObject(limits, (_, state: DurableObjectState) => {
      state.storage.sql.exec('UPDATE leases SET expires_at = 0')
    })
    expect(await runDurableObjectAlarm(limits)).toBe(true)
    expect(await states()).toEqual(['expired'])
  })
})

const MODELS = {
  demo: { adapter: 'demo', token_delay_ms: 0 },
  capped: { adapter: 'demo', token_delay_ms: 0, max_tokens_ceiling: 3 },
  flaky: { adapter: 'demo', token_delay_ms: 0, fail_after_tokens: 3 },
  silent: { adapter: 'demo', token_delay_ms: 0, silence_after_tokens: 1, silence_ms: 600_000 },
  down: { adapter: 'openai', base_url: 'http://127.0.0.1:1/v1', upstream_model: 'm' },
}

/** A key of its own (fresh principal, fresh object) with these limits. */
async function keyed(limits: { daily_tokens?: number; concurrent_streams?: number }) {
  const name = unique('route')
  const key = generateApiKey()
  const environment = asEnv({
    ...env,
    DEFAULT_MODEL: 'demo',
    MODELS,
    API_KEYS: { [name]: { sha256: await hashApiKey(key), models: ['*'], ...limits } },
  })
  const ctx = createExecutionContext()
  const request = (model: string, path = '/api/chat') =>
    app.request(
      path,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
      },
      environment,
      ctx,
    )
  /** Waits for the background settles this key's answers started. */
  const settled = () => waitOnExecutionContext(ctx)
  return { request, settled, limits: limitsOf(`key:${name}`) }
}

describe('budgets and streams through the routes', () => {
  it('refuses a second stream with 429 too_many_streams while the first is open, and frees it when it ends', async () => {
    const { request, settled, limits } = await keyed({ concurrent_streams: 1 })
    const open = await request('silent')
    expect(open.status).toBe(200)
    const refused = await request('demo')
    expect(refused.status).toBe(429)
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('too_many_streams')

    await open.body!.cancel() // the client leaves: the answer ends, cancelled, and is settled
    await settled()
    expect(await limits.usage()).toMatchObject({ openStreams: 0, answers: 1, partialAnswers: 1 })
    const again = await request('demo')
    expect(again.status).toBe(200)
    await again.text()
  })

  it('stops at the daily budget without overspending it when the model has a ceiling', async () => {
    const { request, settled, limits } = await keyed({ daily_tokens: 20 })
    let answered = 0
    let refusal: Response | undefined
    while (!refusal && answered < 20) {
      const response = await request('capped')
      if (response.status === 200) {
        answered++
        await response.text()
        await settled()
      } else refusal = response
    }
    expect(answered).toBeGreaterThan(1)
    expect(refusal!.status).toBe(429)
    expect(refusal!.headers.get('Retry-After')).toMatch(/^\d+$/)
    expect(refusal!.headers.get('x-should-retry')).toBe('false')
    expect(((await refusal!.json()) as { error: { code: string } }).error.code).toBe('budget_exhausted')
    const usage = await limits.usage()
    expect(usage.tokens).toBeLessThanOrEqual(20)
    expect(usage).toMatchObject({ answers: answered, estimatedTokens: 0, openStreams: 0 })
  })

  it('records an answer that fails halfway as partial, with an estimate marked as such', async () => {
    const { request, settled, limits } = await keyed({ daily_tokens: 10_000 })
    const events = eventsOf(await (await request('flaky')).text())
    expect(events.at(-1)).toMatchObject({ event: 'error' })
    await settled()
    const usage = await limits.usage()
    expect(usage).toMatchObject({ answers: 1, partialAnswers: 1, openStreams: 0 })
    expect(usage.tokens).toBeGreaterThan(0)
    expect(usage.estimatedTokens).toBe(usage.tokens)
  })

  it('gives the slot back when no upstream ever answers', async () => {
    const { request, settled, limits } = await keyed({ concurrent_streams: 1 })
    const refused = await request('down')
    expect(refused.status).toBe(502)
    await settled()
    expect(await limits.usage()).toMatchObject({ openStreams: 0, answers: 1, tokens: 0 })
    const next = await request('demo')
    expect(next.status).toBe(200)
    await next.text()
  })

  it('speaks OpenAI on /v1: insufficient_quota and rate_limit_exceeded', async () => {
    const budget = await keyed({ daily_tokens: 5 }) // less than the prompt's estimate: refused at once
    const quota = await budget.request('demo', '/v1/chat/completions')
    expect(quota.status).toBe(429)
    expect(await quota.json()).toMatchObject({ error: { code: 'insufficient_quota', type: 'insufficient_quota' } })

    const streams = await keyed({ concurrent_streams: 1 })
    const open = await streams.request('silent')
    const busy = await streams.request('demo', '/v1/chat/completions')
    expect(busy.status).toBe(429)
    expect(await busy.json()).toMatchObject({ error: { code: 'rate_limit_exceeded' } })
    await open.body!.cancel()
    await streams.settled()
  })
})
