import type { MiddlewareHandler } from 'hono'
import { principalOf } from '../access/authenticate'
import type { AppEnv } from '../app-env'

/**
 * Checks the caller's credentials before anything else (a bad key is a 401 whatever the body
 * says) and keeps who they are in `c.var.principal`. A request without credentials is anonymous
 * here; whether that is enough is decided per model, by `admitAnswer`.
 *
 * @example
 * ```ts
 * app.post('/api/chat', identifyCaller(), requireJson(), handler)
 * ```
 */
export function identifyCaller(): MiddlewareHandler<AppEnv> {
  return async function identifyCaller(c, next) {
    await principalOf(c)
    await next()
  }
}
