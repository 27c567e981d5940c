import { createExecutionContext, createMessageBatch, env, getQueueResult } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import worker from '../../src/index'
import { record } from './records'

/** The USAGE_QUEUE consumer, called as the runtime calls it, writing to the real local D1 from wrangler.toml. */
async function deliver(bodies: unknown[], environment: Env = env) {
  const batch = createMessageBatch(
    'llm-stream-gateway-usage',
    bodies.map((body, i) => ({ id: `message-${i}`, timestamp: new Date(), attempts: 1, body })),
  )
  const ctx = createExecutionContext()
  await worker.queue(batch, environment)
  return getQueueResult(batch, ctx)
}

const rows = () => env.USAGE_DB.prepare('SELECT * FROM usage_records ORDER BY ts').all<Record<string, unknown>>()

beforeEach(async () => {
  await env.USAGE_DB.exec('DELETE FROM usage_records')
})

describe('the usage queue consumer', () => {
  it('writes a whole batch of records, one row each, with every field', async () => {
    const records = Array.from({ length: 100 }, (_, i) => record({ ts: Date.parse('2026-11-20T10:00:00Z') + i }))
    records[1] = { ...records[1]!, outcome: 'error', errorCode: 'upstream_error', ttftMs: null, streamId: 'abc' }
    records[2] = { ...records[2]!, estimated: true, reasoningTokens: 5 }
    records[3] = { ...records[3]!, cacheStatus: 'HIT', costUsd: 0, savedUsd: 0.25 }
    records[4] = { ...records[4]!, cacheReadTokens: 6, cacheWriteTokens: 3 }
    const result = await deliver(records)
    expect(result).toMatchObject({ ackAll: true, retryBatch: { retry: false } })
    const { results } = await rows()
    expect(results).toHaveLength(100)
    expect(results[0]).toEqual({
      id: records[0]!.id,
      ts: records[0]!.ts,
      day: '2026-11-20',
      route: '/api/chat',
      status: 200,
      principal_kind: 'key',
      principal: 'alice',
      model: 'mini',
      upstream: 'mini',
      outcome: 'done',
      finish_reason: 'stop',
      error_code: null,
      prompt_tokens: 10,
      completion_tokens: 20,
      reasoning_tokens: 0,
      estimated: 0,
      cost_usd: 0.001,
      ttft_ms: 100,
      duration_ms: 900,
      stream_id: null,
      attempts: 1,
      cache_status: '',
      saved_usd: 0,
      continued: 0,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
    })
    expect(results[1]).toMatchObject({
      outcome: 'error',
      error_code: 'upstream_error',
      ttft_ms: null,
      stream_id: 'abc',
    })
    expect(results[2]).toMatchObject({ estimated: 1, reasoning_tokens: 5 })
    expect(results[3]).toMatchObject({ cache_status: 'HIT', cost_usd: 0, saved_usd: 0.25 })
    expect(results[4]).toMatchObject({ prompt_tokens: 10, cache_read_tokens: 6, cache_write_tokens: 3 })
  })

  it('keeps how many upstream requests each answer took, and reads a record from before the column as 1', async () => {
    const retried = { ...record(), attempts: 3 }
    const older = record()
    await deliver([retried, older])
    const byId = new Map((await rows()).results.map((row) => [row.id, row.attempts]))
    expect(byId.get(retried.id)).toBe(3)
    expect(byId.get(older.id)).toBe(1)
  })

  it('keeps how often each answer was continued mid-stream, and reads a record from before the column as 0', async () => {
    const continued = { ...record(), attempts: 2, continued: 1 }
    const older = record()
    await deliver([continued, older])
    const byId = new Map((await rows()).results.map((row) => [row.id, row.continued]))
    expect(byId.get(continued.id)).toBe(1)
    expect(byId.get(older.id)).toBe(0)
  })

  it('ignores a record delivered twice (the queue delivers at least once)', async () => {
    const once = record()
    await deliver([once])
    expect(await deliver([once, record()])).toMatchObject({ ackAll: true })
    expect((await rows()).results).toHaveLength(2)
  })

  it('drops a message that is not a record, and still writes the rest', async () => {
    const good = record()
    const result = await deliver([{ hello: 'world' }, good, { ...record(), promptTokens: 'many' }])
    expect(result).toMatchObject({ ackAll: true })
    expect((await rows()).results.map((row) => row.id)).toEqual([good.id])
  })

  it('asks for the whole batch again when D1 refuses it', async () => {
    await env.USAGE_DB.exec('ALTER TABLE usage_records RENAME TO usage_records_away')
    try {
      const result = await deliver([record(), record()])
      expect(result.ackAll).toBe(false)
      expect(result.retryBatch).toMatchObject({ retry: true })
    } finally {
      await env.USAGE_DB.exec('ALTER TABLE usage_records_away RENAME TO usage_records')
    }
  })

  it('acknowledges (and logs) a batch it has no database for, rather than retrying forever', async () => {
    const result = await deliver([record()], { ...env, USAGE_DB: undefined } as unknown as Env)
    expect(result).toMatchObject({ ackAll: true })
  })
})
