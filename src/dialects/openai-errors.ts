// OpenAI's error shape, for both of its dialects, chat and responses (was src/routes/openai/errors.ts).
import type { Context } from 'hono'
import { GatewayError } from '../errors'
import { log } from '../log'
import { loggedPath } from '../logged-path'

/**
 * Gateway codes that OpenAI's API has its own names for, so the SDKs and the code written against
 * them see what they would see from OpenAI: `AuthenticationError` with `invalid_api_key`,
 * `RateLimitError` with `rate_limit_exceeded` or `insufficient_quota`.
 */
const OPENAI_ERRORS: Record<string, { code: string; type: string }> = {
  unauthorized: { code: 'invalid_api_key', type: 'invalid_request_error' },
  rate_limited: { code: 'rate_limit_exceeded', type: 'requests' },
  too_many_streams: { code: 'rate_limit_exceeded', type: 'requests' },
  budget_exhausted: { code: 'insufficient_quota', type: 'insufficient_quota' },
}

/** Errors on this surface take OpenAI's shape, which its SDKs turn into typed exceptions. */
export function openAIError(error: Error, c: Context): Response {
  const gatewayError =
    error instanceof GatewayError
      ? error
      : new GatewayError(500, 'internal_error', 'The gateway failed to handle the request.')
  if (!(error instanceof GatewayError)) {
    log.error('unhandled error', { path: loggedPath(c.req.path), error: String(error) })
  }
  const { status, message, options } = gatewayError
  const { code, type } = OPENAI_ERRORS[gatewayError.code] ?? {
    code: gatewayError.code,
    type: status === 429 ? 'rate_limit_error' : status < 500 ? 'invalid_request_error' : 'api_error',
  }
  const param = options.issues?.[0]?.path ?? null
  const headers: Record<string, string> = { ...options.headers }
  if (options.retryAfter) headers['Retry-After'] = options.retryAfter
  return c.json({ error: { message, type, param, code } }, status as 400, headers)
}
