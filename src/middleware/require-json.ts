import type { MiddlewareHandler } from 'hono'
import { GatewayError } from '../errors'

const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json$/i

/**
 * Refuses a request body that is not JSON with 415, before anything tries to parse it.
 *
 * @example
 * ```ts
 * app.post('/api/chat', requireJson(), handler)
 * ```
 */
export function requireJson(): MiddlewareHandler {
  return async function requireJson(c, next) {
    const mediaType = c.req.header('Content-Type')?.split(';', 1)[0]?.trim() ?? ''
    if (!JSON_MEDIA_TYPE.test(mediaType)) {
      throw new GatewayError(
        415,
        'unsupported_media_type',
        'The request body must be JSON (Content-Type: application/json).',
        {
          retryable: false,
        },
      )
    }
    await next()
  }
}
