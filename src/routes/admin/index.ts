import { Hono } from 'hono/tiny'
import { unauthorized } from '../../access/authenticate'
import type { AppEnv } from '../../app-env'
import { optionalBinding } from '../../config/bindings'
import { GatewayError, invalidRequest, type ErrorIssue } from '../../errors'
import { identifyCaller } from '../../middleware/identify-caller'
import { rateLimited } from '../../middleware/rate-limited'
import { dayOf, daysBefore, isDay } from '../../usage/days'
import { adminRows, GROUP_KEYS, type GroupKey } from '../../usage/queries'

const MAX_RANGE_DAYS = 3660

/**
 * `GET /api/admin/usage?from=YYYY-MM-DD&to=YYYY-MM-DD&group_by=day|model|principal|outcome`:
 * everyone's usage in a range (both ends included; the last 30 days unless asked), grouped by
 * one key or, comma-separated, several (`group_by=day,model` for a chart stacked by model;
 * `error_code` too, for errors by code). Only for admins: a key with `admin = true` or a token
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
  const { from, to, groupBy } = usageQuery(c.req.query())
  const db = optionalBinding<D1Database>(c.env, 'USAGE_DB')
  if (!db) {
    throw new GatewayError(503, 'ledger_unavailable', 'The usage ledger is not set up (no USAGE_DB binding).', {
      retryable: false,
    })
  }
  const rows = await adminRows(db, groupBy, from, to)
  // '' is how the ledger keys "no error code"; the API says null.
  if (groupBy.includes('error_code')) for (const row of rows) row.error_code ||= null
  // The models with a price, so the dashboard can say why everything costs $0.00 when none has one.
  const pricedModels = Object.entries(c.var.config.models)
    .filter(([, model]) => model.price)
    .map(([name]) => name)
  return c.json({ rows, priced_models: pricedModels })
})

function usageQuery(query: Record<string, string>): { from: string; to: string; groupBy: GroupKey[] } {
  const issues: ErrorIssue[] = []
  const now = Date.now()
  const from = query.from ?? daysBefore(now, 29)
  const to = query.to ?? dayOf(now)
  if (!isDay(from)) issues.push({ path: 'from', message: 'must be a date written YYYY-MM-DD' })
  if (!isDay(to)) issues.push({ path: 'to', message: 'must be a date written YYYY-MM-DD' })
  if (!issues.length && from > to) issues.push({ path: 'from', message: 'must not be after to' })
  if (!issues.length && (Date.parse(to) - Date.parse(from)) / 86_400_000 >= MAX_RANGE_DAYS) {
    issues.push({ path: 'from', message: `the range may span at most ${MAX_RANGE_DAYS} days` })
  }
  const groupBy = (query.group_by ?? 'day').split(',').map((key) => key.trim())
  const unknown = groupBy.filter((key) => !Object.hasOwn(GROUP_KEYS, key))
  if (unknown.length || new Set(groupBy).size !== groupBy.length) {
    issues.push({
      path: 'group_by',
      message: `must be one or more of ${Object.keys(GROUP_KEYS).join(', ')}, comma-separated, each once`,
    })
  }
  if (issues.length) throw invalidRequest('admin usage query', issues)
  return { from, to, groupBy: groupBy as GroupKey[] }
}
