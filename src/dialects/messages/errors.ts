import type { Context } from 'hono'
import { GatewayError } from '../../errors'
import { log } from '../../log'
import { loggedPath } from '../../logged-path'

/** An upstream that says it is overloaded (a 503 or 529, or Anthropic's `overloaded_error`): Anthropic's 529. */
const overloaded = ({ code, status }: GatewayError) =>
  code === 'upstream_overloaded' || (code === 'upstream_unavailable' && status === 503)

/**
 * Anthropic's error type for a status, as its API documents them (and its SDKs read them:
 * `AuthenticationError` for 401, `RateLimitError` for 429, and so on).
 */
function errorType(status: number): string {
  switch (status) {
    case 401:
      return 'authentication_error'
    case 403:
      return 'permission_error'
    case 404:
      return 'not_found_error'
    case 413:
      return 'request_too_large'
    case 429:
      return 'rate_limit_error'
    case 529:
      return 'overloaded_error'
    default:
      return status < 500 ? 'invalid_request_error' : 'api_error'
  }
}

/**
 * Errors on this surface take Anthropic's shape, `{"type":"error","error":{"type","message"}}`,
 * with the status its type goes with: an overloaded upstream is a 529 `overloaded_error`, as
 * Anthropic's own would be, so the SDKs retry it as they would Anthropic. The gateway's code
 * stays in `error.code` for whoever reads more than the type.
 */
export function anthropicError(error: Error, c: Context): Response {
  const gatewayError =
    error instanceof GatewayError
      ? error
      : new GatewayError(500, 'internal_error', 'The gateway failed to handle the request.')
  if (!(error instanceof GatewayError))
    log.error('unhandled error', { path: loggedPath(c.req.path), error: String(error) })
  else log.info('request refused', { path: loggedPath(c.req.path), status: error.status, code: error.code })
  const { code, message, options } = gatewayError
  // Anthropic answers an unknown model with 404 (`NotFoundError` in its SDKs), where the others say 400.
  const status = overloaded(gatewayError) ? 529 : code === 'unknown_model' ? 404 : gatewayError.status
  const headers: Record<string, string> = { ...options.headers }
  if (options.retryAfter) headers['retry-after'] = options.retryAfter
  return c.json({ type: 'error', error: { type: errorType(status), message, code } }, status as 400, headers)
}
