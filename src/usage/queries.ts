/**
 * What the usage routes ask of the ledger. Everything reads the `usage_rows` view: the records
 * still kept and the daily sums of older days (see migrations/), so a range that reaches past
 * the retention still adds up. Days are UTC dates, `YYYY-MM-DD`, both ends included.
 */

/** What an answer group used: the figures every usage row has. */
export interface UsageTotals {
  requests: number
  prompt_tokens: number
  completion_tokens: number
  reasoning_tokens: number
  /** The parts of `prompt_tokens` read from and written to the provider's prompt cache. */
  cache_read_tokens: number
  cache_write_tokens: number
  cost_usd: number
  /** What cache hits and joins saved: the cost of the answers they were served from. */
  saved_usd: number
  errors: number
}

const TOTALS = `SUM(requests) AS requests, SUM(prompt_tokens) AS prompt_tokens,
  SUM(completion_tokens) AS completion_tokens, SUM(reasoning_tokens) AS reasoning_tokens,
  SUM(cache_read_tokens) AS cache_read_tokens, SUM(cache_write_tokens) AS cache_write_tokens,
  SUM(cost_usd) AS cost_usd, SUM(saved_usd) AS saved_usd, SUM(CASE WHEN outcome = 'error' THEN requests ELSE 0 END) AS errors`

export type PrincipalDay = { date: string; model: string } & UsageTotals

/** One principal's usage per day and model, oldest first. */
export async function principalDays(
  db: D1Database,
  principal: { kind: string; name: string },
  from: string,
  to: string,
): Promise<PrincipalDay[]> {
  const { results } = await db
    .prepare(
      `SELECT day AS date, model, ${TOTALS} FROM usage_rows
       WHERE principal_kind = ?1 AND principal = ?2 AND day BETWEEN ?3 AND ?4
       GROUP BY day, model ORDER BY day, model`,
    )
    .bind(principal.kind, principal.name, from, to)
    .all<PrincipalDay>()
  return results.map(roundCost)
}

/** What admin rows can be grouped by, and the column each reads. */
export const GROUP_KEYS = {
  day: { column: 'day', as: 'date' },
  model: { column: 'model', as: 'model' },
  principal: { column: 'principal', as: 'principal' },
  outcome: { column: 'outcome', as: 'outcome' },
  error_code: { column: 'error_code', as: 'error_code' },
  cache_status: { column: 'cache_status', as: 'cache_status' },
  route: { column: 'route', as: 'route' },
} as const
export type GroupKey = keyof typeof GROUP_KEYS

export type AdminRow = Record<string, string | number | null> &
  UsageTotals & { ttft_ms_p50: number | null; ttft_ms_p95: number | null }

/**
 * Narrows the admin rows and the request log to one principal, model, surface (`route`) or
 * outcome (each optional). Days rolled up before the daily sums kept the route (migration 0005)
 * have route '': they count when no surface is chosen, and under none when one is.
 */
export interface UsageFilter {
  principal?: string | undefined
  model?: string | undefined
  outcome?: string | undefined
  route?: string | undefined
}

/** The same condition for the usage rows and the records: each filter bound, never spliced in. */
const FILTERED = `(?3 IS NULL OR principal = ?3) AND (?4 IS NULL OR model = ?4) AND (?5 IS NULL OR outcome = ?5)
  AND (?6 IS NULL OR route = ?6)`
const filterValues = (filter: UsageFilter) => [
  filter.principal ?? null,
  filter.model ?? null,
  filter.outcome ?? null,
  filter.route ?? null,
]

/** What the ledger holds in a range, for each filter: the dashboard's choices. */
export interface FilterChoices {
  principal: string[]
  model: string[]
  route: string[]
  outcome: string[]
}

/**
 * The principals, models, surfaces and outcomes the ledger holds in a range, each sorted; a
 * surface unknown to days rolled up before it was kept ('') is left out. Never narrowed by a
 * filter: choosing one key must not hide the others.
 */
export async function filterChoices(db: D1Database, from: string, to: string): Promise<FilterChoices> {
  const { results } = await db
    .prepare(
      `WITH rows AS (SELECT principal, model, route, outcome FROM usage_rows WHERE day BETWEEN ?1 AND ?2)
       SELECT DISTINCT 'principal' AS name, principal AS value FROM rows
       UNION SELECT DISTINCT 'model', model FROM rows
       UNION SELECT DISTINCT 'route', route FROM rows WHERE route != ''
       UNION SELECT DISTINCT 'outcome', outcome FROM rows
       ORDER BY name, value`,
    )
    .bind(from, to)
    .all<{ name: keyof FilterChoices; value: string }>()
  const choices: FilterChoices = { principal: [], model: [], route: [], outcome: [] }
  for (const { name, value } of results) choices[name].push(value)
  return choices
}

/**
 * Everyone's usage in a range, grouped by one key or several (`day` and `model` for a chart
 * stacked by model). Grouping by principal keeps keys and token subjects apart (`kind`). The
 * time-to-first-token percentiles are nearest-rank, over the answers that sent any text, from
 * the records still kept (daily sums carry none).
 */
export async function adminRows(
  db: D1Database,
  groupBy: GroupKey[],
  from: string,
  to: string,
  filter: UsageFilter = {},
): Promise<AdminRow[]> {
  const columns = groupBy.flatMap((key) =>
    key === 'principal' ? ['principal_kind', 'principal'] : [GROUP_KEYS[key].column],
  )
  const keys = columns.join(', ')
  const selected = columns
    .map((column) => {
      if (column === 'principal_kind') return 'totals.principal_kind AS kind'
      const key = Object.values(GROUP_KEYS).find((k) => k.column === column)!
      return `totals.${column} AS ${key.as}`
    })
    .join(', ')
  const { results } = await db
    .prepare(
      `WITH rows AS (SELECT * FROM usage_rows WHERE day BETWEEN ?1 AND ?2 AND ${FILTERED}),
       totals AS (SELECT ${keys}, ${TOTALS} FROM rows GROUP BY ${keys}),
       ranked AS (
         SELECT ${keys}, ttft_ms,
           ROW_NUMBER() OVER (PARTITION BY ${keys} ORDER BY ttft_ms) AS rank,
           COUNT(*) OVER (PARTITION BY ${keys}) AS n
         FROM rows WHERE ttft_ms IS NOT NULL),
       percentiles AS (
         SELECT ${keys},
           MIN(CASE WHEN rank >= 0.5 * n THEN ttft_ms END) AS ttft_ms_p50,
           MIN(CASE WHEN rank >= 0.95 * n THEN ttft_ms END) AS ttft_ms_p95
         FROM ranked GROUP BY ${keys})
       SELECT ${selected}, requests, prompt_tokens, completion_tokens, reasoning_tokens, cache_read_tokens,
         cache_write_tokens, cost_usd, saved_usd, errors,
         ttft_ms_p50, ttft_ms_p95
       FROM totals LEFT JOIN percentiles USING (${keys})
       ORDER BY ${columns.map((c) => `totals.${c}`).join(', ')}`,
    )
    .bind(from, to, ...filterValues(filter))
    .all<AdminRow>()
  return results.map(roundCost)
}

/** One answer in the request log: what the ledger recorded of it, nothing it said. */
export interface RequestRow {
  id: string
  ts: number
  kind: string
  principal: string
  model: string
  route: string
  outcome: string
  error_code: string | null
  prompt_tokens: number
  completion_tokens: number
  cost_usd: number
  ttft_ms: number | null
  duration_ms: number
}

/** Where a page of the log ends: the next page starts after this answer (newest first). */
export interface RequestCursor {
  ts: number
  id: string
}

/**
 * The records in a range, newest first, `limit` at a time: each page starts after `after` (the
 * previous page's last answer), so a page never repeats or skips an answer that arrives meanwhile.
 * Only the records still kept: days past the retention are daily sums, without single answers.
 */
export async function requestRows(
  db: D1Database,
  from: string,
  to: string,
  filter: UsageFilter,
  after: RequestCursor | undefined,
  limit: number,
): Promise<RequestRow[]> {
  const { results } = await db
    .prepare(
      `SELECT id, ts, principal_kind AS kind, principal, model, route, outcome, error_code, prompt_tokens,
         completion_tokens, cost_usd, ttft_ms, duration_ms
       FROM usage_records
       WHERE day BETWEEN ?1 AND ?2 AND ${FILTERED}
         AND (?7 IS NULL OR ts < ?7 OR (ts = ?7 AND id < ?8))
       ORDER BY ts DESC, id DESC LIMIT ?9`,
    )
    .bind(from, to, ...filterValues(filter), after?.ts ?? null, after?.id ?? null, limit)
    .all<RequestRow>()
  return results
}

/** Sums of floating-point costs print as 0.30000000000000004: rounded to a millionth of a cent. */
function roundCost<Row extends { cost_usd: number; saved_usd: number }>(row: Row): Row {
  return { ...row, cost_usd: Math.round(row.cost_usd * 1e8) / 1e8, saved_usd: Math.round(row.saved_usd * 1e8) / 1e8 }
}
