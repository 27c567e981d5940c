/**
 * A small typed client for the gateway, for browser frontends (and anything with `fetch`).
 * Depends on nothing but `eventsource-parser` and the gateway's own event types.
 *
 * - `streamChat`: `POST /api/chat`, the cheapest path; leaving cancels the answer.
 * - `startResumableChat` / `resumeChat`: `/api/streams`, answers that survive dropped connections
 *   and reloads, with reconnection built in and `stop()` to cancel.
 *
 * @example
 * ```ts
 * import { startResumableChat, ChatStreamError } from 'llm-stream-gateway/client'
 *
 * const answer = await startResumableChat({ messages: [{ role: 'user', content: 'Hi' }] })
 * sessionStorage.setItem('answer', answer.id) // resumeChat(id) continues it after a reload
 * try {
 *   for await (const event of answer) {
 *     if (event.event === 'delta') output.textContent += event.data.text
 *   }
 * } catch (error) {
 *   if (error instanceof ChatStreamError) console.error(error.kind, error.code, error.message)
 * }
 * ```
 */
export type * from '../events/chat-events'
export type { ChatRequest, ChatMessage } from '../request/chat-request'
export { ChatStreamError, type ErrorIssue } from './errors'
export type { ChatStreamEvent } from './read-events'
export { streamChat, type StreamChatOptions } from './stream-chat'
export { resumeChat, startResumableChat, type ResumableChat, type ResumableChatOptions } from './resumable-chat'
