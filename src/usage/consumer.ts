import { optionalBinding } from '../config/bindings'
import { log } from '../log'
import type { UsageRecord } from './record'

const INSERT = `INSERT OR IGNORE INTO usage_records (id, ts, day, route, status, principal_kind, principal, model, upstream,
  outcome, finish_reason, error_code, prompt_tokens, completion_tokens, reasoning_tokens, estimated, cost_usd,
  ttft_ms, duration_ms, stream_id, attempts, cache_status, saved_usd, continued, cache_read_tokens, cache_write_tokens)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

/** How long a batch that D1 refused waits before it is delivered again. */
const RETRY_DELAY_SECONDS = 30

/**
 * The `USAGE_QUEUE` consumer: writes a delivery's records into `USAGE_DB` as one D1 batch (one
 * round trip, one transaction), so a thousand answers a second cost ten writes, not a thousand.
 * A repeated delivery is harmless (`INSERT OR IGNORE` on the record's id). If D1 fails, the whole
 * batch is delivered again later, up to the consumer's `max_retries`. A message that is not a
 * record (nothing of ours sends one) is logged and dropped rather than retried forever.
 */
export async function writeUsageBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = optionalBinding<D1Database>(env, 'USAGE_DB')
  if (!db) {
    // A queue without its database: nothing a retry would fix. The log lines keep the figures.
    log.error('usage records dropped: the USAGE_DB binding is missing', { count: batch.messages.length })
    return batch.ackAll()
  }
  const statements: D1PreparedStatement[] = []
  for (const message of batch.messages) {
    if (isUsageRecord(message.body)) statements.push(insertRecord(db, message.body))
    else log.error('usage queue message is not a usage record; dropped', { id: message.id })
  }
  try {
    if (statements.length) await db.batch(statements)
    batch.ackAll()
  } catch (error) {
    log.error('usage records not written; the batch will be retried', {
      count: statements.length,
      error: String(error),
    })
    batch.retryAll({ delaySeconds: RETRY_DELAY_SECONDS })
  }
}

function insertRecord(db: D1Database, r: UsageRecord): D1PreparedStatement {
  return db.prepare(INSERT).bind(
    r.id,
    r.ts,
    new Date(r.ts).toISOString().slice(0, 10),
    r.route,
    r.status,
    r.principalKind,
    r.principal,
    r.model,
    r.upstream,
    r.outcome,
    r.finishReason,
    r.errorCode,
    r.promptTokens,
    r.completionTokens,
    r.reasoningTokens,
    r.estimated ? 1 : 0,
    r.costUsd,
    r.ttftMs,
    r.durationMs,
    r.streamId,
    r.attempts ?? 1,
    // Records queued before the cache existed have neither field.
    r.cacheStatus ?? '',
    r.savedUsd ?? 0,
    // Records queued before continuation existed have none.
    r.continued ?? 0,
    // Nor had records queued before the prompt cache's columns.
    r.cacheReadTokens ?? 0,
    r.cacheWriteTokens ?? 0,
  )
}

/** Enough of a check that a bad message cannot make D1 refuse the whole batch. */
function isUsageRecord(body: unknown): body is UsageRecord {
  if (typeof body !== 'object' || body === null) return false
  const r = body as Record<string, unknown>
  const strings = ['id', 'route', 'principalKind', 'principal', 'model', 'upstream', 'outcome'] as const
  const numbers = [
    'ts',
    'status',
    'promptTokens',
    'completionTokens',
    'reasoningTokens',
    'costUsd',
    'durationMs',
  ] as const
  return (
    strings.every((key) => typeof r[key] === 'string') &&
    numbers.every((key) => typeof r[key] === 'number' && Number.isFinite(r[key])) &&
    typeof r.estimated === 'boolean' &&
    (r.ttftMs === null || typeof r.ttftMs === 'number') &&
    (r.finishReason === null || typeof r.finishReason === 'string') &&
    (r.errorCode === null || typeof r.errorCode === 'string') &&
    (r.streamId === null || typeof r.streamId === 'string') &&
    (r.attempts === undefined || (typeof r.attempts === 'number' && Number.isInteger(r.attempts))) &&
    (r.cacheStatus === undefined || r.cacheStatus === null || typeof r.cacheStatus === 'string') &&
    (r.savedUsd === undefined || (typeof r.savedUsd === 'number' && Number.isFinite(r.savedUsd))) &&
    (r.continued === undefined || (typeof r.continued === 'number' && Number.isInteger(r.continued))) &&
    [r.cacheReadTokens, r.cacheWriteTokens].every(
      (count) => count === undefined || (typeof count === 'number' && Number.isInteger(count)),
    )
  )
}
