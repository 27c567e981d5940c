import type { ChatEventDataMap, ChatEventName } from '../schema/chat-events'

/** A comment line: ignored by every SSE parser, but it keeps proxies and the socket alive. */
export const HEARTBEAT = ': ping\n\n'

/**
 * Writes events in the `text/event-stream` wire format, numbering them with consecutive `id`s.
 *
 * Injection-safe by construction: event names are fixed by the type, ids are integers, and
 * `data` is JSON, which escapes every CR and LF, so no input can end a field or an event early.
 */
export class EventEncoder {
  #nextId: number

  constructor(firstId = 1) {
    this.#nextId = firstId
  }

  /** The id the next event will carry. */
  get nextId(): number {
    return this.#nextId
  }

  encode<E extends ChatEventName>(event: E, data: ChatEventDataMap[E]): string {
    return encodeEvent(this.#nextId++, event, JSON.stringify(data))
  }
}

/**
 * One event on the wire, from data that is already JSON (a stored event replays without being
 * parsed and serialised again). `data` must be single-line JSON, as `JSON.stringify` makes it.
 */
export function encodeEvent(id: number, event: ChatEventName, json: string): string {
  return `id: ${id}\nevent: ${event}\ndata: ${json}\n\n`
}

/** The `retry:` field: how long an EventSource waits before reconnecting. */
export function encodeRetry(ms: number): string {
  return `retry: ${Math.floor(ms)}\n`
}
