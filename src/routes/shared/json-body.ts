import type { Context } from 'hono'
import { GatewayError } from '../../errors'

/** The request's JSON body (its size and media type already checked by middleware), or a 400. */
export async function jsonBody(c: Context): Promise<unknown> {
  try {
    return await c.req.json()
  } catch {
    throw new GatewayError(400, 'invalid_json', 'The request body is not valid JSON.', { retryable: false })
  }
}
