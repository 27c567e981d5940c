import { idleToolFields } from '../../request/idle-tool-fields'
import { isObject } from '../../request/json-shape'
import type { NativeRequest, UpstreamRequest } from '../../request/native-request'

/**
 * The caller's own body, for an upstream that speaks the caller's API (issue 25): sent as it is,
 * unknown fields and all (`prompt_cache_key`, `include`, hosted and namespace tools), with only
 * what the gateway owns set by the gateway. The translation beside it (`request`) stays the
 * measure of the answer, so what it says wins where the two could disagree: the model, and the
 * `max_tokens` admission settled on (the caller's, lowered to the ceiling and the budget).
 */

/** Chat Completions: the model, the max-tokens field the caller used, `stream`, and usage in the stream. */
export function passThroughChatBody(model: string, request: UpstreamRequest, native: NativeRequest) {
  const body = withoutIdleTools({ ...native.body, model, stream: true })
  body.stream_options = { ...(isObject(body.stream_options) ? body.stream_options : {}), include_usage: true }
  if (request.max_tokens !== undefined) {
    // The fields the caller used; `max_tokens` where it used none, which every compatible server reads.
    if (body.max_completion_tokens != null) body.max_completion_tokens = request.max_tokens
    if (body.max_tokens != null || body.max_completion_tokens == null) body.max_tokens = request.max_tokens
  }
  return body
}

/**
 * Responses: the model, `max_output_tokens`, `stream`, and what the gateway owns because it stores
 * responses itself: `store: false` (the provider keeps nothing), no `background` (the gateway runs
 * the answer in its own object), and no `previous_response_id` (the route has put the conversation
 * it names into `input`, with any `item_reference`: see `dialects/responses/pass-through.ts`).
 */
export function passThroughResponsesBody(model: string, request: UpstreamRequest, native: NativeRequest) {
  const body = withoutIdleTools({ ...native.body, model, stream: true, store: false })
  delete body.background
  delete body.previous_response_id
  if (request.max_tokens !== undefined) body.max_output_tokens = request.max_tokens
  return body
}

/** The one liberty taken with a caller's tools: idle tool fields go (`request/idle-tool-fields.ts`). */
function withoutIdleTools(body: Record<string, unknown>): Record<string, unknown> {
  for (const field of idleToolFields(body)) delete body[field]
  return body
}
