import { optionalBinding } from '../config/bindings'
import { loadConfig } from '../config/load'
import { log } from '../log'

const DAY_MS = 86_400_000

/**
 * Sums every record of the days before the cutoff into `usage_daily` and deletes them, in one
 * transaction (a D1 batch), so no day is ever counted twice or lost. A record that arrives late
 * for a day already rolled up is added to that day's sums the next time this runs.
 */
export async function rollUpOldRecords(
  db: D1Database,
  retentionDays: number,
  now = Date.now(),
): Promise<{ cutoff: string; rolledUp: number }> {
  const cutoff = new Date(now - retentionDays * DAY_MS).toISOString().slice(0, 10)
  const [, deleted] = await db.batch([
    db
      .prepare(
        `INSERT INTO usage_daily (day, principal_kind, principal, model, route, outcome, error_code, cache_status,
           requests, prompt_tokens, completion_tokens, reasoning_tokens, estimated_requests, cost_usd, saved_usd,
           cache_read_tokens, cache_write_tokens)
         SELECT day, principal_kind, principal, model, route, outcome, COALESCE(error_code, ''), cache_status, COUNT(*),
           SUM(prompt_tokens), SUM(completion_tokens), SUM(reasoning_tokens), SUM(estimated), SUM(cost_usd), SUM(saved_usd),
           SUM(cache_read_tokens), SUM(cache_write_tokens)
         FROM usage_records WHERE day < ?1
         GROUP BY day, principal_kind, principal, model, route, outcome, COALESCE(error_code, ''), cache_status
         ON CONFLICT (day, principal_kind, principal, model, route, outcome, error_code, cache_status) DO UPDATE SET
           requests = requests + excluded.requests, prompt_tokens = prompt_tokens + excluded.prompt_tokens,
           completion_tokens = completion_tokens + excluded.completion_tokens,
           reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
           estimated_requests = estimated_requests + excluded.estimated_requests,
           cost_usd = cost_usd + excluded.cost_usd, saved_usd = saved_usd + excluded.saved_usd,
           cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
           cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens`,
      )
      .bind(cutoff),
    db.prepare('DELETE FROM usage_records WHERE day < ?1').bind(cutoff),
  ])
  return { cutoff, rolledUp: deleted!.meta.changes }
}

/**
 * The daily Cron Trigger (`[triggers]` in wrangler.toml): keeps the ledger to
 * `USAGE_RETENTION_DAYS` of records plus daily sums before that. Without `USAGE_DB`, nothing to do.
 */
export async function keepUsageLedger(_controller: ScheduledController, env: Env): Promise<void> {
  const db = optionalBinding<D1Database>(env, 'USAGE_DB')
  if (!db) return
  const { usageRetentionDays } = loadConfig(env)
  const { cutoff, rolledUp } = await rollUpOldRecords(db, usageRetentionDays)
  log.info('usage ledger retention', { cutoff, rolledUp, retentionDays: usageRetentionDays })
}
