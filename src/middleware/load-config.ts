import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../app-env'
import { loadConfig } from '../config/load'

/**
 * Makes the validated gateway config available as `c.var.config`. It is parsed on the first
 * request an isolate handles; a broken config fails every request with one clear error.
 */
export function withConfig(): MiddlewareHandler<AppEnv> {
  return async function withConfig(c, next) {
    c.set('config', loadConfig(c.env))
    await next()
  }
}
