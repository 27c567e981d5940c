import { Hono } from 'hono/tiny'
import { unauthorized } from '../../access/authenticate'
import type { AppEnv } from '../../app-env'
import { optionalBinding } from '../../config/bindings'
import { invalidRequest } from '../../errors'
import { identifyCaller } from '../../middleware/identify-caller'
import { rateLimited } from '../../middleware/rate-limited'
import { daysBefore, dayOf } from '../../usage/days'
import { principalDays } from '../../usage/queries'
import { budgetOf } from '../shared/budget'

/** The most days one request may ask for. */
const MAX_DAYS = 366
const DEFAULT_DAYS = 30

/**
 * `GET /api/usage?days=N`: the caller's own usage, per day and model, for the last N days
 * (today included; 30 unless asked), and where it stands against its daily budget. Only for a
 * caller with credentials: an anonymous caller is nobody in particular (401). Without the
 * ledger (`USAGE_DB`) `days` is empty; the budget still comes from the limits object.
 */
export const usage = new Hono<AppEnv>()

usage.get('/', identifyCaller(), rateLimited(), async (c) => {
  const principal = c.var.principal!
  if (principal.kind === 'anonymous') throw unauthorized()
  const days = daysParam(c.req.query('days'))
  const now = Date.now()
  const db = optionalBinding<D1Database>(c.env, 'USAGE_DB')
  const [budget, rows] = await Promise.all([
    budgetOf(c.env, principal),
    db ? principalDays(db, principal, daysBefore(now, days - 1), dayOf(now)) : [],
  ])
  return c.json({ principal: principal.name, budget, days: rows })
})

function daysParam(value: string | undefined): number {
  if (value === undefined) return DEFAULT_DAYS
  const days = Number(value)
  if (!/^\d+$/.test(value) || days < 1 || days > MAX_DAYS) {
    throw invalidRequest('usage query', [{ path: 'days', message: `must be a whole number from 1 to ${MAX_DAYS}` }])
  }
  return days
}
