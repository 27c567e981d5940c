import { Hono } from 'hono/tiny'
import { unauthorized } from '../../access/authenticate'
import type { AppEnv } from '../../app-env'
import { optionalBinding } from '../../config/bindings'
import { GatewayError, invalidRequest, type ErrorIssue } from '../../errors'
import { identifyCaller } from '../../middleware/identify-caller'
import { rateLimited } from '../../middleware/rate-limited'
import { dayOf, daysBefore, isDay } from '../../usage/days'
import {
  adminRows,
  filterChoices,
  GROUP_KEYS,
  requestRows,
  type GroupKey,
  type RequestCursor,
} from '../../usage/queries'
import { budgetRows } from './budgets'

const MAX_RANGE_DAYS = 3660
const MAX_PAGE = 200
const FILTERS = ['principal', 'model', 'route', 'outcome'] as const
const OUTCOMES = ['done', 'error', 'cancelled']

/**
 * `GET /api/admin/usage?from=YYYY-MM-DD&to=YYYY-MM-DD&group_by=day|model|principal|outcome|route…`:
 * everyone's usage in a range (both ends included; the last 30 days unless asked), grouped by
 * one key or, comma-separated, several (`group_by=day,model` for a chart stacked by model;
 * `error_code` too, for errors by code), narrowed by `principal`, `model`, `route` (the surface)
 * or `outcome` when given. Only for admins: a key with `admin = true` or a token
 * whose subject is in `ADMIN_SUBJECTS`; anyone else with credentials gets 403, nobody 401.
 * Beside the rows, `priced_models` names the models with a price.
 */
export const admin = new Hono<AppEnv>()

admin.use(identifyCaller(), rateLimited(), async function requireAdmin(c, next) {
  const principal = c.var.principal!
  if (principal.kind === 'anonymous') throw unauthorized()
  if (!principal.admin) throw new GatewayError(403, 'forbidden', 'Only an admin may read this.', { retryable: false })
  await next()
})

admin.get('/usage', async (c) => {
  const query = c.req.query()
  const issues: ErrorIssue[] = []
  const { from, to } = rangeOf(query, issues)
  const filter = filterOf(query, issues)
  const groupBy = groupByOf(query, issues)
  if (issues.length) throw invalidRequest('admin usage query', issues)
  const rows = await adminRows(ledger(c.env), groupBy, from, to, filter)
  // '' is how the ledger keys "no error code"; the API says null.
  if (groupBy.includes('error_code')) for (const row of rows) row.error_code ||= null
  // The models with a price, so the dashboard can say why everything costs $0.00 when none has one.
  const pricedModels = Object.entries(c.var.config.models)
    .filter(([, model]) => model.price)
    .map(([name]) => name)
  return c.json({ rows, priced_models: pricedModels })
})

/**
 * `GET /api/admin/requests?from&to&principal&model&route&outcome&limit&cursor`: the request log,
 * one row per answer the ledger still keeps, newest first, `limit` a page (50 unless asked, at
 * most 200). `next` is the cursor of the page after this one, null on the last.
 */
admin.get('/requests', async (c) => {
  const query = c.req.query()
  const issues: ErrorIssue[] = []
  const { from, to } = rangeOf(query, issues)
  const filter = filterOf(query, issues)
  const limit = query.limit === undefined ? 50 : Number(query.limit)
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    issues.push({ path: 'limit', message: `must be a whole number from 1 to ${MAX_PAGE}` })
  }
  const after = query.cursor === undefined ? undefined : cursorOf(query.cursor)
  if (after === null) issues.push({ path: 'cursor', message: 'must be a `next` from an earlier page' })
  if (issues.length) throw invalidRequest('admin request log query', issues)
  // One more than the page, to know whether another follows.
  const rows = await requestRows(ledger(c.env), from, to, filter, after ?? undefined, limit + 1)
  const page = rows.slice(0, limit)
  const last = page.at(-1)
  return c.json({ rows: page, next: rows.length > limit && last ? `${last.ts}:${last.id}` : null })
})

/**
 * `GET /api/admin/filters?from&to`: the principals, models, surfaces (`route`) and outcomes the
 * ledger holds in the range, each sorted: the dashboard's filter choices.
 */
admin.get('/filters', async (c) => {
  const issues: ErrorIssue[] = []
  const { from, to } = rangeOf(c.req.query(), issues)
  if (issues.length) throw invalidRequest('admin filters query', issues)
  return c.json(await filterChoices(ledger(c.env), from, to))
})

/**
 * `GET /api/admin/budgets`: each API key's daily token budget and today's use (UTC), and each
 * token subject's seen today when tokens have a budget (see budgets.ts for where each figure
 * comes from). Without the ledger, a key without a budget has no figure (null).
 */
admin.get('/budgets', async (c) => {
  return c.json(await budgetRows(c.env, c.var.config, optionalBinding<D1Database>(c.env, 'USAGE_DB')))
})

function ledger(env: AppEnv['Bindings']): D1Database {
  const db = optionalBinding<D1Database>(env, 'USAGE_DB')
  if (!db) {
    throw new GatewayError(503, 'ledger_unavailable', 'The usage ledger is not set up (no USAGE_DB binding).', {
      retryable: false,
    })
  }
  return db
}

/** `ts:id`, as `next` wrote it; null when it is not one. */
function cursorOf(cursor: string): RequestCursor | null {
  const match = /^(\d{1,16}):(.{1,200})$/.exec(cursor)
  return match ? { ts: Number(match[1]), id: match[2]! } : null
}

/** The optional filters, each one value; an outcome must be one the ledger records. */
function filterOf(
  query: Record<string, string>,
  issues: ErrorIssue[],
): Partial<Record<(typeof FILTERS)[number], string>> {
  const filter: Partial<Record<(typeof FILTERS)[number], string>> = {}
  for (const name of FILTERS) if (query[name]) filter[name] = query[name]
  if (filter.outcome && !OUTCOMES.includes(filter.outcome)) {
    issues.push({ path: 'outcome', message: `must be one of ${OUTCOMES.join(', ')}` })
  }
  return filter
}

function rangeOf(query: Record<string, string>, issues: ErrorIssue[]): { from: string; to: string } {
  const now = Date.now()
  const from = query.from ?? daysBefore(now, 29)
  const to = query.to ?? dayOf(now)
  if (!isDay(from)) issues.push({ path: 'from', message: 'must be a date written YYYY-MM-DD' })
  if (!isDay(to)) issues.push({ path: 'to', message: 'must be a date written YYYY-MM-DD' })
  if (!issues.length && from > to) issues.push({ path: 'from', message: 'must not be after to' })
  if (!issues.length && (Date.parse(to) - Date.parse(from)) / 86_400_000 >= MAX_RANGE_DAYS) {
    issues.push({ path: 'from', message: `the range may span at most ${MAX_RANGE_DAYS} days` })
  }
  return { from, to }
}

function groupByOf(query: Record<string, string>, issues: ErrorIssue[]): GroupKey[] {
  const groupBy = (query.group_by ?? 'day').split(',').map((key) => key.trim())
  const unknown = groupBy.filter((key) => !Object.hasOwn(GROUP_KEYS, key))
  if (unknown.length || new Set(groupBy).size !== groupBy.length) {
    issues.push({
      path: 'group_by',
      message: `must be one or more of ${Object.keys(GROUP_KEYS).join(', ')}, comma-separated, each once`,
    })
  }
  return groupBy as GroupKey[]
}
