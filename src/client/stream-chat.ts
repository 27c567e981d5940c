import type { ChatRequest } from '../request/chat-request'
import { refusal, request } from './errors'
import { readEvents, type ChatStreamEvent } from './read-events'

export interface StreamChatOptions {
  /** Aborting it stops reading and closes the connection, which cancels the upstream model. */
  signal?: AbortSignal
  /** Where the gateway is; defaults to the page's own origin. */
  baseUrl?: string
  headers?: Record<string, string>
  fetch?: typeof fetch
}

/**
 * Streams one answer from `POST /api/chat`. Ends after `done`; throws `ChatStreamError` for every
 * way an answer can be incomplete. The answer lives as long as the connection: leaving cancels it.
 */
export async function* streamChat(
  chat: ChatRequest,
  { signal, baseUrl = '', headers, fetch: fetchImpl = globalThis.fetch }: StreamChatOptions = {},
): AsyncGenerator<ChatStreamEvent, void, undefined> {
  const response = await request(fetchImpl, `${baseUrl}/api/chat`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream', ...headers },
    body: JSON.stringify(chat),
    signal,
  })
  if (!response.ok) throw await refusal(response)
  yield* readEvents(response, signal)
}
