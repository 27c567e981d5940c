import { createExecutionContext, createMessageBatch, env, getQueueResult } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import worker from '../../src/index'
import { adminRows, filterChoices, principalDays, requestRows } from '../../src/usage/queries'
import { rollUpOldRecords } from '../../src/usage/retention'
import type { UsageRecord } from '../../src/usage/record'
import { record } from './records'

/** The ledger's queries and its retention, on the real local D1 with the real migrations. */
const db = env.USAGE_DB
const at = (day: string, hour = 10) => Date.parse(`${day}T${String(hour).padStart(2, '0')}:00:00Z`)

async function write(records: UsageRecord[]) {
  const batch = createMessageBatch(
    'llm-stream-gateway-usage',
    records.map((body, i) => ({ id: String(i), timestamp: new Date(), attempts: 1, body })),
  )
  const ctx = createExecutionContext()
  await worker.queue(batch, env)
  expect(await getQueueResult(batch, ctx)).toMatchObject({ ackAll: true })
}

beforeEach(async () => {
  await db.exec('DELETE FROM usage_records')
  await db.exec('DELETE FROM usage_daily')
})

describe('a principal’s own usage', () => {
  it('is per day and model, only theirs, only in the range', async () => {
    await write([
      record({ ts: at('2026-11-19'), model: 'mini', promptTokens: 1, completionTokens: 2, costUsd: 0.1 }),
      record({ ts: at('2026-11-19', 11), model: 'mini', promptTokens: 10, completionTokens: 20, costUsd: 0.2 }),
      record({ ts: at('2026-11-19'), model: 'big', outcome: 'error', errorCode: 'upstream_error', costUsd: 0.3 }),
      record({ ts: at('2026-11-20'), model: 'mini', reasoningTokens: 4, cacheReadTokens: 6, cacheWriteTokens: 2 }),
      record({ ts: at('2026-11-21'), model: 'mini' }), // after the range
      record({ ts: at('2026-11-19'), principal: 'bob' }),
      record({ ts: at('2026-11-19'), principalKind: 'jwt' }), // a token subject also called alice
    ])
    const days = await principalDays(db, { kind: 'key', name: 'alice' }, '2026-11-19', '2026-11-20')
    expect(days).toEqual([
      {
        date: '2026-11-19',
        model: 'big',
        requests: 1,
        prompt_tokens: 10,
        completion_tokens: 20,
        reasoning_tokens: 0,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
        cost_usd: 0.3,
        saved_usd: 0,
        errors: 1,
      },
      {
        date: '2026-11-19',
        model: 'mini',
        requests: 2,
        prompt_tokens: 11,
        completion_tokens: 22,
        reasoning_tokens: 0,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
        cost_usd: 0.3,
        saved_usd: 0,
        errors: 0,
      },
      {
        date: '2026-11-20',
        model: 'mini',
        requests: 1,
        prompt_tokens: 10,
        completion_tokens: 20,
        reasoning_tokens: 4,
        cache_read_tokens: 6,
        cache_write_tokens: 2,
        cost_usd: 0.001,
        saved_usd: 0,
        errors: 0,
      },
    ])
  })
})

describe('everyone’s usage, for admins', () => {
  beforeEach(async () => {
    // ttft 1..20 ms for alice on mini; bob's answers on big; an anonymous error with no text.
    await write([
      ...Array.from({ length: 20 }, (_, i) => record({ ts: at('2026-11-19'), ttftMs: 20 - i })),
      record({ ts: at('2026-11-20'), principal: 'bob', model: 'big', ttftMs: 500, costUsd: 0.5 }),
      record({
        ts: at('2026-11-20'),
        principalKind: 'anonymous',
        principal: 'anonymous',
        model: 'demo',
        outcome: 'error',
        errorCode: 'upstream_timeout',
        ttftMs: null,
        costUsd: 0,
      }),
    ])
  })

  it('groups by model, with nearest-rank time-to-first-token percentiles', async () => {
    const rows = await adminRows(db, ['model'], '2026-11-01', '2026-11-30')
    expect(rows).toEqual([
      expect.objectContaining({ model: 'big', requests: 1, cost_usd: 0.5, ttft_ms_p50: 500, ttft_ms_p95: 500 }),
      expect.objectContaining({ model: 'demo', requests: 1, errors: 1, ttft_ms_p50: null, ttft_ms_p95: null }),
      expect.objectContaining({ model: 'mini', requests: 20, cost_usd: 0.02, ttft_ms_p50: 10, ttft_ms_p95: 19 }),
    ])
  })

  it('groups by day, principal (kind apart) and outcome, and by several keys at once', async () => {
    expect((await adminRows(db, ['day'], '2026-11-01', '2026-11-30')).map((r) => [r.date, r.requests])).toEqual([
      ['2026-11-19', 20],
      ['2026-11-20', 2],
    ])
    const principals = await adminRows(db, ['principal'], '2026-11-01', '2026-11-30')
    expect(principals.map((r) => [r.kind, r.principal, r.requests])).toEqual([
      ['anonymous', 'anonymous', 1],
      ['key', 'alice', 20],
      ['key', 'bob', 1],
    ])
    const outcomes = await adminRows(db, ['outcome'], '2026-11-01', '2026-11-30')
    expect(outcomes.map((r) => [r.outcome, r.requests, r.errors])).toEqual([
      ['done', 21, 0],
      ['error', 1, 1],
    ])
    const stacked = await adminRows(db, ['day', 'model'], '2026-11-20', '2026-11-20')
    expect(stacked.map((r) => [r.date, r.model, r.cost_usd])).toEqual([
      ['2026-11-20', 'big', 0.5],
      ['2026-11-20', 'demo', 0],
    ])
    const codes = await adminRows(db, ['error_code'], '2026-11-01', '2026-11-30')
    expect(codes.map((r) => [r.error_code, r.requests])).toEqual([
      ['', 21],
      ['upstream_timeout', 1],
    ])
  })
})

describe('the surface (route)', () => {
  beforeEach(async () => {
    await write([
      record({ ts: at('2026-08-01'), route: '/v1/messages', promptTokens: 1, completionTokens: 0 }),
      record({ ts: at('2026-08-01', 11), route: '/api/chat', promptTokens: 2, completionTokens: 0 }),
      record({ ts: at('2026-11-19'), route: '/v1/messages', promptTokens: 4, completionTokens: 0, ttftMs: 40 }),
      record({ ts: at('2026-11-19', 11), route: '/v1/responses', principal: 'bob', outcome: 'error', ttftMs: null }),
    ])
  })

  it('narrows every figure and the log, rolled-up days included, and groups by it', async () => {
    await rollUpOldRecords(db, 90, at('2026-11-20'))
    const messages = await adminRows(db, ['day'], '2026-01-01', '2026-12-31', { route: '/v1/messages' })
    expect(messages.map((r) => [r.date, r.requests, r.prompt_tokens, r.ttft_ms_p50])).toEqual([
      ['2026-08-01', 1, 1, null],
      ['2026-11-19', 1, 4, 40],
    ])
    const byRoute = await adminRows(db, ['route'], '2026-01-01', '2026-12-31')
    expect(byRoute.map((r) => [r.route, r.requests])).toEqual([
      ['/api/chat', 1],
      ['/v1/messages', 2],
      ['/v1/responses', 1],
    ])
    const log = await requestRows(db, '2026-01-01', '2026-12-31', { route: '/v1/responses' }, undefined, 10)
    expect(log.map((r) => [r.route, r.principal])).toEqual([['/v1/responses', 'bob']])
    expect(await adminRows(db, ['day'], '2026-01-01', '2026-12-31', { route: '/v1/chat/completions' })).toEqual([])
  })

  it('offers as filter choices what the range holds, never narrowed by a filter', async () => {
    expect(await filterChoices(db, '2026-11-01', '2026-11-30')).toEqual({
      principal: ['alice', 'bob'],
      model: ['mini'],
      route: ['/v1/messages', '/v1/responses'],
      outcome: ['done', 'error'],
    })
    await rollUpOldRecords(db, 90, at('2026-11-20'))
    expect(await filterChoices(db, '2026-08-01', '2026-08-01')).toEqual({
      principal: ['alice'],
      model: ['mini'],
      route: ['/api/chat', '/v1/messages'],
      outcome: ['done'],
    })
    expect(await filterChoices(db, '2026-09-01', '2026-09-30')).toEqual({
      principal: [],
      model: [],
      route: [],
      outcome: [],
    })
  })

  it('keeps days rolled up before the route was kept, under no surface', async () => {
    // As migration 0005 leaves a day rolled up before it: route ''.
    await db
      .prepare(
        `INSERT INTO usage_daily (day, principal_kind, principal, model, outcome, requests, prompt_tokens,
           completion_tokens, reasoning_tokens, estimated_requests, cost_usd)
         VALUES ('2026-07-01', 'key', 'alice', 'mini', 'done', 3, 30, 60, 0, 0, 0.003)`,
      )
      .run()
    expect((await adminRows(db, ['day'], '2026-07-01', '2026-07-01')).map((r) => r.requests)).toEqual([3])
    expect(await adminRows(db, ['day'], '2026-07-01', '2026-07-01', { route: '/api/chat' })).toEqual([])
    expect((await filterChoices(db, '2026-07-01', '2026-07-01')).route).toEqual([])
  })
})

describe('the response cache in the ledger', () => {
  it('groups by cache status, with what hits and joins saved, before and after old days are rolled up', async () => {
    await write([
      record({ ts: at('2026-08-01'), cacheStatus: 'MISS', costUsd: 0.25 }),
      record({ ts: at('2026-08-01', 11), cacheStatus: 'HIT', costUsd: 0, savedUsd: 0.25 }),
      record({ ts: at('2026-08-01', 12), cacheStatus: 'HIT', costUsd: 0, savedUsd: 0.25 }),
      record({ ts: at('2026-08-01', 13), cacheStatus: 'JOINED', costUsd: 0, savedUsd: 0.25 }),
      record({ ts: at('2026-08-01', 14), costUsd: 0.1 }), // a model without a cache
    ])
    const byStatus = async () =>
      (await adminRows(db, ['cache_status'], '2026-08-01', '2026-08-01')).map((r) => [
        r.cache_status,
        r.requests,
        r.cost_usd,
        r.saved_usd,
      ])
    const expected = [
      ['', 1, 0.1, 0],
      ['HIT', 2, 0, 0.5],
      ['JOINED', 1, 0, 0.25],
      ['MISS', 1, 0.25, 0],
    ]
    expect(await byStatus()).toEqual(expected)
    await rollUpOldRecords(db, 90, at('2026-11-20'))
    expect((await db.prepare('SELECT COUNT(*) AS n FROM usage_records').first())?.n).toBe(0)
    expect(await byStatus()).toEqual(expected)
  })
})

describe('retention', () => {
  it('rolls old days up into daily sums and deletes their records, so the totals stay the same', async () => {
    await write([
      record({ ts: at('2026-08-01'), promptTokens: 5, costUsd: 0.25, cacheReadTokens: 4 }),
      record({ ts: at('2026-08-01', 12), promptTokens: 7, costUsd: 0.5, estimated: true, cacheWriteTokens: 6 }),
      record({ ts: at('2026-08-02'), outcome: 'error', errorCode: 'upstream_error' }),
      record({ ts: at('2026-11-19') }),
    ])
    const before = await adminRows(db, ['day', 'outcome'], '2026-01-01', '2026-12-31')
    const result = await rollUpOldRecords(db, 90, at('2026-11-20'))
    expect(result).toEqual({ cutoff: '2026-08-22', rolledUp: 3 })
    const kept = await db.prepare('SELECT day FROM usage_records').all()
    expect(kept.results).toEqual([{ day: '2026-11-19' }])
    const daily = await db.prepare('SELECT * FROM usage_daily ORDER BY day, outcome').all()
    expect(daily.results).toEqual([
      expect.objectContaining({
        day: '2026-08-01',
        requests: 2,
        prompt_tokens: 12,
        cache_read_tokens: 4,
        cache_write_tokens: 6,
        estimated_requests: 1,
        cost_usd: 0.75,
      }),
      expect.objectContaining({ day: '2026-08-02', outcome: 'error', error_code: 'upstream_error', requests: 1 }),
    ])
    const after = await adminRows(db, ['day', 'outcome'], '2026-01-01', '2026-12-31')
    // The same sums; only the percentiles of rolled-up days are gone.
    const sums = (rows: typeof before) =>
      rows.map((row) => [
        row.date,
        row.outcome,
        row.requests,
        row.prompt_tokens,
        row.cache_read_tokens,
        row.cache_write_tokens,
        row.cost_usd,
        row.errors,
      ])
    expect(sums(after)).toEqual(sums(before))
    expect(after[0]).toMatchObject({ ttft_ms_p50: null })
  })

  it('adds a record that arrives late for a rolled-up day to that day’s sums', async () => {
    await write([record({ ts: at('2026-08-01'), promptTokens: 5 })])
    await rollUpOldRecords(db, 90, at('2026-11-20'))
    await write([record({ ts: at('2026-08-01'), promptTokens: 6 })])
    await rollUpOldRecords(db, 90, at('2026-11-21'))
    const daily = await db.prepare('SELECT requests, prompt_tokens FROM usage_daily').all()
    expect(daily.results).toEqual([{ requests: 2, prompt_tokens: 11 }])
    expect((await db.prepare('SELECT COUNT(*) AS n FROM usage_records').first())!.n).toBe(0)
  })
})
