import type { Context } from 'hono'
import type { AppEnv } from '../app-env'
import { optionalBinding } from '../config/bindings'
import { GatewayError } from '../errors'
import { log } from '../log'
import { principalOf } from './authenticate'
import type { Principal } from './principal'

/**
 * The Rate Limiting binding does not say when its window ends; its period is 10 or 60 seconds,
 * so after 60 seconds a refused caller is certainly in a new one.
 */
const RETRY_AFTER_SECONDS = '60'

/**
 * Counts a request against the principal's rate limit (`[[ratelimits]]` in wrangler.toml):
 * `RATE_LIMIT` for callers with credentials, keyed by principal; `RATE_LIMIT_ANONYMOUS` for
 * anonymous callers, keyed by client IP. Without the binding, there is no rate limit. The
 * binding's counts are per Cloudflare location and approximate: it stops floods, while exact
 * limits (tokens, open streams) are kept by the principal's Durable Object.
 */
export async function checkRateLimit(env: Env, principal: Principal): Promise<void> {
  const binding = optionalBinding<RateLimit>(
    env,
    principal.kind === 'anonymous' ? 'RATE_LIMIT_ANONYMOUS' : 'RATE_LIMIT',
  )
  if (!binding) return
  let success: boolean
  try {
    ;({ success } = await binding.limit({ key: principal.id }))
  } catch (error) {
    // A rate limiter that fails must not take the gateway down; budgets and open streams still hold.
    log.error('rate limiter failed', { error: String(error) })
    return
  }
  if (!success) {
    throw new GatewayError(429, 'rate_limited', 'Too many requests; slow down and try again later.', {
      retryAfter: RETRY_AFTER_SECONDS,
    })
  }
}

/**
 * Counts this request against its caller's limit, once however often it is asked: the route's
 * `rateLimited()` middleware counts it first, before the body is read, validated or any object
 * is touched, and admission asks again as a backstop for a route that forgot (a no-op here).
 * Every request counts, refusals included: a flood of bad requests is still a flood.
 */
export async function countRequest(c: Context<AppEnv>): Promise<void> {
  if (c.get('rateCounted')) return
  c.set('rateCounted', true)
  await checkRateLimit(c.env, await principalOf(c))
}
