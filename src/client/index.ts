/**
 * A small typed client for `POST /api/chat`, for browser frontends (and anything with `fetch`).
 * Depends on nothing but `eventsource-parser` and the gateway's own event types.
 *
 * @example
 * ```ts
 * import { streamChat, ChatStreamError } from 'llm-stream-gateway/client'
 *
 * const controller = new AbortController()
 * try {
 *   for await (const event of streamChat({ messages: [{ role: 'user', content: 'Hi' }] }, { signal: controller.signal })) {
 *     if (event.event === 'delta') output.textContent += event.data.text
 *   }
 * } catch (error) {
 *   if (error instanceof ChatStreamError) console.error(error.kind, error.code, error.message)
 * }
 * ```
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import type { ChatEventDataMap, ChatEventName } from '../schema/chat-events'
import type { ChatRequest } from '../schema/chat-request'

export type * from '../schema/chat-events'
export type { ChatRequest, ChatMessage } from '../schema/chat-request'

/** One event of the stream, typed by its name. `error` never appears: it is thrown instead. */
export type ChatStreamEvent = {
  [E in Exclude<ChatEventName, 'error'>]: { event: E; id: number; data: ChatEventDataMap[E] }
}[Exclude<ChatEventName, 'error'>]

export interface StreamChatOptions {
  /** Aborting it stops reading and closes the connection, which cancels the upstream model. */
  signal?: AbortSignal
  /** Where the gateway is; defaults to the page's own origin. */
  baseUrl?: string
  headers?: Record<string, string>
  fetch?: typeof fetch
}

/**
 * Why a stream did not produce a complete answer:
 * - `http`: the gateway refused the request (status and code from its JSON error body);
 * - `content_type`: the response was not an event stream (a proxy's error page, say);
 * - `upstream`: the stream ended with an `error` event;
 * - `truncated`: the stream ended without a terminal event: the connection was cut somewhere;
 * - `network`: the request could not be made at all.
 */
export class ChatStreamError extends Error {
  override readonly name = 'ChatStreamError'

  constructor(
    readonly kind: 'http' | 'content_type' | 'upstream' | 'truncated' | 'network',
    message: string,
    readonly details: { code?: string; status?: number; retryable?: boolean } = {},
  ) {
    super(message)
  }

  get code(): string | undefined {
    return this.details.code
  }
  get status(): number | undefined {
    return this.details.status
  }
  get retryable(): boolean {
    return this.details.retryable ?? this.kind !== 'http'
  }
}

/** Streams one answer. Ends after `done`; throws `ChatStreamError` for every way an answer can be incomplete. */
export async function* streamChat(
  request: ChatRequest,
  { signal, baseUrl = '', headers, fetch: fetchImpl = globalThis.fetch }: StreamChatOptions = {},
): AsyncGenerator<ChatStreamEvent, void, undefined> {
  let response: Response
  try {
    response = await fetchImpl(`${baseUrl}/api/chat`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream', ...headers },
      body: JSON.stringify(request),
      signal,
    })
  } catch (error) {
    if (signal?.aborted) throw error
    throw new ChatStreamError('network', `Could not reach the gateway: ${String(error)}`)
  }
  if (!response.ok) throw await refusal(response)
  if (!response.headers.get('Content-Type')?.startsWith('text/event-stream') || !response.body) {
    await response.body?.cancel()
    throw new ChatStreamError('content_type', `Expected an event stream, got ${response.headers.get('Content-Type')}`)
  }

  const reader = response.body.getReader()
  const decoder = new TextDecoder()
  const pending: EventSourceMessage[] = []
  const parser = createParser({ onEvent: (message) => pending.push(message) })
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
        if (event === 'done') return
      }
    }
    throw new ChatStreamError('truncated', 'The stream ended before the answer was complete.')
  } finally {
    // Whatever ended the loop (done, an error, the caller breaking out), let go of the connection.
    signal?.removeEventListener('abort', stopReading)
    reader.cancel().catch(() => {})
  }
}

async function refusal(response: Response): Promise<ChatStreamError> {
  let error: { code?: string; message?: string; retryable?: boolean } = {}
  try {
    error = ((await response.json()) as { error?: typeof error }).error ?? {}
  } catch {
    // Not our JSON error body (a proxy's page); the status says enough.
  }
  return new ChatStreamError('http', error.message ?? `The gateway answered ${response.status}.`, {
    code: error.code,
    status: response.status,
    retryable: error.retryable,
  })
}
