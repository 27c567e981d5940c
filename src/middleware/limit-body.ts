import type { MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { AppEnv } from '../app-env'
import { GatewayError } from '../errors'

/**
 * Refuses bodies over `MAX_BODY_BYTES` with 413: by Content-Length up front, or by counting a
 * chunked body as it streams in, never buffering past the limit (Hono's `bodyLimit`).
 *
 * @example
 * ```ts
 * app.post('/api/chat', limitBody(), handler)
 * ```
 */
export function limitBody(): MiddlewareHandler<AppEnv> {
  return async function limitBody(c, next) {
    const maxSize = c.var.config.maxBodyBytes
    return bodyLimit({
      maxSize,
      onError: () => {
        throw new GatewayError(413, 'payload_too_large', `The request body is larger than ${maxSize} bytes.`, {
          retryable: false,
        })
      },
    })(c, next)
  }
}
