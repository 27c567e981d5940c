/**
 * `GET /api/admin/usage` as the dashboard reads it (docs/usage.md has the route). Plain fetch:
 * the key goes in the Authorization header, never in the URL.
 */

export interface UsageRow {
  date?: string
  model?: string
  principal?: string
  kind?: string
  outcome?: string
  error_code?: string | null
  requests: number
  prompt_tokens: number
  completion_tokens: number
  reasoning_tokens: number
  cost_usd: number
  errors: number
  ttft_ms_p50: number | null
  ttft_ms_p95: number | null
}

export class UsageError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

export interface Usage {
  rows: UsageRow[]
  /** The models with a price: none, and every cost reads $0.00 for that reason. */
  priced_models: string[]
}

/** What the dashboard narrows its figures to: each one value, or left out for all. */
export interface UsageFilter {
  principal?: string
  model?: string
  outcome?: string
  /** The surface (`/api/chat`, `/v1/messages`…). */
  route?: string
}

/** `GET /api/admin/filters`: what the ledger holds in a range, for each filter. */
export type FilterChoices = Record<'principal' | 'model' | 'route' | 'outcome', string[]>

/** One row of `GET /api/admin/budgets`. */
export interface BudgetRow {
  kind: 'key' | 'jwt'
  principal: string
  daily_tokens: number | null
  used_today: number | null
  remaining_today: number | null
  counted_by: 'limits' | 'ledger'
}

export interface Budgets {
  /** Today, UTC: the day the budgets are charged to. */
  day: string
  resets_at: string
  rows: BudgetRow[]
}

/** One answer of `GET /api/admin/requests`. */
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

export interface RequestPage {
  rows: RequestRow[]
  /** The cursor of the next (older) page; null on the last. */
  next: string | null
}

export function fetchUsage(
  key: string,
  from: string,
  to: string,
  groupBy: string,
  filter: UsageFilter,
): Promise<Usage> {
  return get<Usage>(key, '/api/admin/usage', { from, to, group_by: groupBy, ...filter })
}

export function fetchChoices(key: string, from: string, to: string): Promise<FilterChoices> {
  return get<FilterChoices>(key, '/api/admin/filters', { from, to })
}

export function fetchBudgets(key: string): Promise<Budgets> {
  return get<Budgets>(key, '/api/admin/budgets', {})
}

export function fetchRequests(
  key: string,
  from: string,
  to: string,
  filter: UsageFilter,
  cursor: string | undefined,
): Promise<RequestPage> {
  return get<RequestPage>(key, '/api/admin/requests', { from, to, ...filter, ...(cursor ? { cursor } : {}) })
}

async function get<Body>(key: string, path: string, params: Record<string, string>): Promise<Body> {
  const response = await fetch(`${path}?${new URLSearchParams(params)}`, {
    headers: { Authorization: `Bearer ${key}` },
  })
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null
    throw new UsageError(response.status, body?.error?.message ?? `The gateway answered ${response.status}.`)
  }
  return (await response.json()) as Body
}
