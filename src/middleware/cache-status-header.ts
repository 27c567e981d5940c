import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../app-env'

/**
 * `X-Gateway-Cache: HIT | MISS | BYPASS | JOINED` on an answer from a model with a response
 * cache (docs/cache.md), whatever the surface and whether it streams: what the route's cache
 * lookup decided (`cacheStatus`). Nothing for a model without one.
 */
export function cacheStatusHeader(): MiddlewareHandler<AppEnv> {
  return async function cacheStatusHeader(c, next) {
    await next()
    const status = c.var.cacheStatus
    if (status) c.res.headers.set('X-Gateway-Cache', status)
  }
}
