import type { Context } from 'hono'
import { GatewayError } from '../../errors'

/**
 * The last event the reader has: `Last-Event-ID` (what `EventSource` sends when it reconnects),
 * else `?last_event_id=` for clients that cannot set headers; undefined when it sent neither.
 */
export function lastEventId(c: Context, { query = true }: { query?: boolean } = {}): number | undefined {
  const header = c.req.header('Last-Event-ID')
  if (header !== undefined) return eventIdFrom(header, 'Last-Event-ID')
  const param = query ? c.req.query('last_event_id') : undefined
  return param === undefined ? undefined : eventIdFrom(param, 'last_event_id')
}

/** An event id a client sent (the last one it has), or a 400 naming where it came from. */
function eventIdFrom(value: string, path: string): number {
  if (!/^\d{1,15}$/.test(value.trim())) {
    throw new GatewayError(400, 'invalid_request', 'The last event id must be a whole number.', {
      retryable: false,
      issues: [{ path, message: 'is not an event id' }],
    })
  }
  return Number(value)
}

/** A reader that claims events the answer has not produced yet. */
export function pastTheEnd(lastId: number): GatewayError {
  return new GatewayError(400, 'invalid_request', `The answer has no event after ${lastId} yet.`, {
    retryable: false,
    issues: [{ path: 'Last-Event-ID', message: 'is past the last event of the answer' }],
  })
}
