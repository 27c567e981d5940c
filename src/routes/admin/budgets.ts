import type { Principal } from '../../access/principal'
import type { GatewayConfig } from '../../config/load'
import { dayOf, nextDay } from '../../usage/days'
import { adminRows } from '../../usage/queries'
import { budgetOf } from '../shared/budget'

/** One principal's daily token budget and what it has used today (UTC). */
export interface BudgetRow {
  kind: 'key' | 'jwt'
  principal: string
  /** The daily token budget; null for none. */
  daily_tokens: number | null
  /** Tokens used today: charged by the limits object for a budget, else the ledger's sum. */
  used_today: number | null
  /** What is left, less what answers running now have reserved; null without a budget. */
  remaining_today: number | null
  /** Where `used_today` comes from. */
  counted_by: 'limits' | 'ledger'
}

/**
 * Every API key's budget and today's use, and each token subject's that used the gateway today
 * when tokens have a budget. A budget's figures come from the principal's limits object, the one
 * that admits or refuses its answers (as `GET /api/usage` reports them), so they are what
 * enforcement sees: estimates and expired leases included, never the queue's lag. A principal
 * without a budget has no limits object counting for it: its use is the ledger's tokens today.
 * Anonymous callers are budgeted per IP, which the ledger never keeps: they are not listed.
 */
export async function budgetRows(
  env: Env,
  config: GatewayConfig,
  db: D1Database | undefined,
  now = Date.now(),
): Promise<{ day: string; resets_at: string; rows: BudgetRow[] }> {
  const day = dayOf(now)
  const ledger = db ? await adminRows(db, ['principal'], day, day) : []
  const ledgerTokens = (kind: string, name: string) => {
    if (!db) return null
    const row = ledger.find((r) => r.kind === kind && r.principal === name)
    return row ? row.prompt_tokens + row.completion_tokens : 0
  }
  // The ids authenticate.ts gives them: the names of their limits objects.
  const principals: Principal[] = [...config.access.apiKeysByHash.values()].map((key) => ({
    id: `key:${key.name}`,
    kind: 'key',
    name: key.name,
    policy: key.policy,
  }))
  const jwt = config.access.jwt
  if (jwt?.policy.dailyTokens !== undefined) {
    for (const row of ledger) {
      if (row.kind === 'jwt') {
        const name = String(row.principal)
        principals.push({ id: `jwt:${name}`, kind: 'jwt', name, policy: jwt.policy })
      }
    }
  }
  const rows = await Promise.all(
    principals.map(async (principal): Promise<BudgetRow> => {
      const kind = principal.kind as BudgetRow['kind']
      const budget = await budgetOf(env, principal)
      if (!budget) {
        return {
          kind,
          principal: principal.name,
          daily_tokens: null,
          used_today: ledgerTokens(kind, principal.name),
          remaining_today: null,
          counted_by: 'ledger',
        }
      }
      return {
        kind,
        principal: principal.name,
        daily_tokens: budget.daily_tokens,
        used_today: budget.used_today,
        remaining_today: budget.remaining_today,
        counted_by: 'limits',
      }
    }),
  )
  rows.sort((a, b) => a.kind.localeCompare(b.kind) || a.principal.localeCompare(b.principal))
  return { day, resets_at: nextDay(now), rows }
}
