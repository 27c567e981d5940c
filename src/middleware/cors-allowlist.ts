import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../app-env'
import { GatewayError } from '../errors'

const ALLOWED_METHODS = 'GET, POST, DELETE, OPTIONS'
/**
 * Ours (`X-Chat-Owner`: a `useChat` app's owner token), plus what Anthropic's SDK sends from a browser page (its key header, its version and beta
 * headers, and the opt-in it sends with `dangerouslyAllowBrowser`).
 */
const ALLOWED_HEADERS = [
  'Content-Type, Authorization, Last-Event-ID, X-Chat-Owner',
  'x-api-key, anthropic-version, anthropic-beta, anthropic-dangerous-direct-browser-access',
].join(', ')
const PREFLIGHT_MAX_AGE_SECONDS = '600'
/**
 * Response headers a page may read beyond the safelisted ones: when to retry, how to
 * authenticate, which request, which fields were dropped, how many attempts it took, and what
 * the cache did.
 */
const EXPOSED_HEADERS =
  'Retry-After, WWW-Authenticate, request-id, X-Gateway-Ignored, X-Gateway-Attempts, X-Gateway-Cache'

/**
 * CORS for an allowlist of origins (`CORS_ALLOWED_ORIGINS`). The Worker's own pages need no
 * entry. A request from any other origin is refused with 403 before it can cost a model call:
 * CORS alone only hides the answer from the page, it does not stop the request being served.
 *
 * @example
 * ```ts
 * app.use('/api/*', corsAllowlist())
 * ```
 */
export function corsAllowlist(): MiddlewareHandler<AppEnv> {
  return async function corsAllowlist(c, next) {
    const origin = c.req.header('Origin')
    if (!origin || origin === new URL(c.req.url).origin) {
      await next()
      c.res.headers.append('Vary', 'Origin')
      return
    }
    const allowed = c.var.config.corsAllowedOrigins
    if (allowed !== '*' && !allowed.includes(origin)) {
      throw new GatewayError(403, 'origin_not_allowed', 'This origin may not use the gateway.', { retryable: false })
    }
    const corsHeaders: Record<string, string> = {
      'Access-Control-Allow-Origin': allowed === '*' ? '*' : origin,
      // A listed origin may send cookies (`credentials: 'include'`): `useChat`'s owner cookie.
      // Never with "*", which browsers refuse to pair with credentials anyway.
      ...(allowed !== '*' && { 'Access-Control-Allow-Credentials': 'true' }),
      // A created stream's URL: a page on another origin reads it from here.
      'Access-Control-Expose-Headers': 'Location',
      Vary: 'Origin',
    }
    if (c.req.method === 'OPTIONS') {
      return new Response(null, {
        status: 204,
        headers: {
          ...corsHeaders,
          'Access-Control-Allow-Methods': ALLOWED_METHODS,
          'Access-Control-Allow-Headers': ALLOWED_HEADERS,
          'Access-Control-Max-Age': PREFLIGHT_MAX_AGE_SECONDS,
        },
      })
    }
    await next()
    for (const [name, value] of Object.entries(corsHeaders)) c.res.headers.append(name, value)
    c.res.headers.set('Access-Control-Expose-Headers', EXPOSED_HEADERS)
  }
}
