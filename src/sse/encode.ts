import type { ChatEventName } from '../events/chat-events'

/** A comment line: ignored by every SSE parser, but it keeps proxies and the socket alive. */
export const HEARTBEAT = ': ping\n\n'

/**
 * One event in the `text/event-stream` wire format, from data that is already JSON (a stored
 * event replays without being parsed and serialised again).
 *
 * Injection-safe by construction: event names are fixed by the type, ids are integers, and
 * `json` must be single-line JSON, as `JSON.stringify` makes it, which escapes every CR and LF,
 * so no input can end a field or an event early.
 */
export function encodeEvent(id: number, event: ChatEventName, json: string): string {
  return `id: ${id}\nevent: ${event}\ndata: ${json}\n\n`
}

/** The `retry:` field: how long an EventSource waits before reconnecting. */
export function encodeRetry(ms: number): string {
  return `retry: ${Math.floor(ms)}\n`
}
