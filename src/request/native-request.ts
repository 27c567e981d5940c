import type { Dialect } from '../events/dialect'
import type { ChatRequest } from './chat-request'

/**
 * The caller's own request body, kept beside the gateway's translation of it, for an upstream
 * that speaks the caller's dialect (issue 25, pass-through): an adapter whose upstream speaks
 * `dialect` sends `body` as the caller sent it, changing only what the gateway owns (the model
 * name, the `max_tokens` ceiling, `stream`, usage in the stream); every other adapter ignores it
 * and sends its translation of the gateway's request, as before. A fallback of another family
 * therefore still answers.
 *
 * The gateway's request beside it stays the measure of the answer: admission estimates and
 * reserves from it, the cache keys on it (and on this), and a stored answer keeps both.
 */
export interface NativeRequest {
  dialect: Dialect
  body: Readonly<Record<string, unknown>>
  /** Provider headers the caller sent that belong with the body (`anthropic-beta`), by lower-case name. */
  headers?: Readonly<Record<string, string>>
}

/** What the pipeline hands an adapter: the gateway's request, and the caller's own body where it has one. */
export type UpstreamRequest = ChatRequest & { native?: NativeRequest }
