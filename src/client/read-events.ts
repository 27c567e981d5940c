import { createParser, type EventSourceMessage } from 'eventsource-parser'
import type { ChatEventDataMap, ChatEventName } from '../events/chat-events'
import { ChatStreamError } from './errors'

/** One event of the stream, typed by its name. `error` never appears: it is thrown instead. */
export type ChatStreamEvent = {
  [E in Exclude<ChatEventName, 'error'>]: { event: E; id: number; data: ChatEventDataMap[E] }
}[Exclude<ChatEventName, 'error'>]

/** What a connection said besides its events: the `retry:` hint, for reconnecting. */
export interface ConnectionHints {
  retryMs?: number
}

/** How long a body may stay open after `done` before it is cancelled after all. */
const END_GRACE_MS = 5000

/**
 * Lets a body end on its own after the terminal event (the gateway ends it right away), reading
 * in the background so the caller is not kept waiting. Cancelling it at once instead would leave
 * every finished answer as a cancelled request in the browser's network log, as if it had failed.
 */
function letEnd(reader: ReadableStreamDefaultReader<Uint8Array>): void {
  const timer = setTimeout(() => reader.cancel().catch(() => {}), END_GRACE_MS)
  const drain = async () => {
    while (!(await reader.read()).done);
  }
  drain()
    .catch(() => {})
    .finally(() => clearTimeout(timer))
}

/**
 * The events of one event-stream response, typed, until `done` (returns) or `error` (throws
 * `upstream`). A body that ends or breaks before either throws `truncated`: the caller decides
 * whether to reconnect. Always lets go of the connection, however the loop ends.
 */
export async function* readEvents(
  response: Response,
  signal: AbortSignal | undefined,
  hints: ConnectionHints = {},
): AsyncGenerator<ChatStreamEvent, void, undefined> {
  if (!response.headers.get('Content-Type')?.startsWith('text/event-stream') || !response.body) {
    await response.body?.cancel()
    throw new ChatStreamError('content_type', `Expected an event stream, got ${response.headers.get('Content-Type')}`)
  }
  const reader = response.body.getReader()
  let ending = false
  const decoder = new TextDecoder()
  const pending: EventSourceMessage[] = []
  const parser = createParser({
    onEvent: (message) => pending.push(message),
    onRetry: (ms) => (hints.retryMs = ms),
  })
  // fetch aborts the body on its own, but not every fetch (a test double, a wrapper) does.
  const stopReading = () => reader.cancel(signal?.reason).catch(() => {})
  signal?.addEventListener('abort', stopReading, { once: true })
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>
      try {
        chunk = await reader.read()
      } catch (error) {
        if (signal?.aborted) throw error
        throw new ChatStreamError('truncated', 'The connection broke before the answer was complete.')
      }
      signal?.throwIfAborted()
      if (chunk.done) break
      parser.feed(decoder.decode(chunk.value, { stream: true }))
      while (pending.length) {
        const message = pending.shift()!
        const event = message.event as ChatEventName
        const data = JSON.parse(message.data)
        if (event === 'error') {
          throw new ChatStreamError('upstream', data.message, { code: data.code, retryable: data.retryable })
        }
        yield { event, id: Number(message.id), data } as ChatStreamEvent
        if (event === 'done') {
          ending = true
          letEnd(reader)
          return
        }
      }
    }
    throw new ChatStreamError('truncated', 'The stream ended before the answer was complete.')
  } finally {
    signal?.removeEventListener('abort', stopReading)
    if (!ending) reader.cancel().catch(() => {})
  }
}
