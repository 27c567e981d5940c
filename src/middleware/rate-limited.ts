import type { MiddlewareHandler } from 'hono'
import { principalOf } from '../access/authenticate'
import { checkRateLimit } from '../access/rate-limit'
import type { AppEnv } from '../app-env'

/**
 * Counts the request against the caller's rate limit (by principal; by IP for anonymous callers),
 * for routes that touch an answer without starting one (reading or stopping a stream): starting
 * one is counted by admission. Without it, a stream's id could be probed, or its answer read and
 * replayed, as fast as a client can ask.
 *
 * @example
 * ```ts
 * streams.get('/:id', rateLimited(), handler)
 * ```
 */
export function rateLimited(): MiddlewareHandler<AppEnv> {
  return async function rateLimited(c, next) {
    await checkRateLimit(c.env, await principalOf(c))
    await next()
  }
}
