import { limitsOf } from '../../access/leases'
import type { Principal } from '../../access/principal'
import { nextDay } from '../../usage/days'

export interface Budget {
  daily_tokens: number
  used_today: number
  remaining_today: number
  resets_at: string
}

/**
 * Where the caller stands against its daily token budget, from its limits object: the one that
 * admits or refuses its answers, so these are the figures enforcement uses. What answers running
 * now have reserved is not remaining. Null for a principal without a budget.
 */
export async function budgetOf(env: Env, principal: Principal): Promise<Budget | null> {
  const daily = principal.policy.dailyTokens
  if (daily === undefined) return null
  const today = await limitsOf(env, principal.id).usage()
  return {
    daily_tokens: daily,
    used_today: today.tokens,
    remaining_today: Math.max(0, daily - today.tokens - today.reservedTokens),
    resets_at: nextDay(Date.now()),
  }
}
