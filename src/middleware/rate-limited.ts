import type { MiddlewareHandler } from 'hono'
import { countRequest } from '../access/rate-limit'
import type { AppEnv } from '../app-env'

/**
 * Counts the request against the caller's rate limit (by principal; by IP for anonymous callers)
 * before the route does any work: before its body is read or validated, before an
 * `item_reference` is resolved, before any object is touched. Every route that starts, reads,
 * stops, deletes or resolves anything takes it, right after `identifyCaller()`; a refusal counts
 * like any other request. Admission does not count the request again (see `countRequest`).
 *
 * @example
 * ```ts
 * streams.get('/:id', rateLimited(), handler)
 * app.post('/api/chat', identifyCaller(), rateLimited(), requireJson(), handler)
 * ```
 */
export function rateLimited(): MiddlewareHandler<AppEnv> {
  return async function rateLimited(c, next) {
    await countRequest(c)
    await next()
  }
}
