import type { Context } from 'hono'
import { GatewayError } from '../../errors'
import { MAX_JSON_DEPTH, tooDeepAt } from '../../request/json-limits'

/**
 * The request's JSON body (its size and media type already checked by middleware), or a 400:
 * for JSON that does not parse, and for JSON nested deeper than `MAX_JSON_DEPTH`, which nothing
 * after this point should have to survive.
 */
export async function jsonBody(c: Context): Promise<unknown> {
  let body: unknown
  try {
    body = await c.req.json()
  } catch {
    throw new GatewayError(400, 'invalid_json', 'The request body is not valid JSON.', { retryable: false })
  }
  const deep = tooDeepAt(body)
  if (deep !== undefined) {
    throw new GatewayError(400, 'invalid_request', `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`, {
      retryable: false,
      issues: [{ path: deep, message: `nests deeper than ${MAX_JSON_DEPTH} levels` }],
    })
  }
  return body
}
