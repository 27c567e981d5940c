import type { AnthropicModelConfig } from '../../config/models'
import type { UpstreamRequest } from '../../request/native-request'

/** The API version this adapter speaks when the caller named none; Anthropic requires one on every request. */
export const ANTHROPIC_VERSION = '2023-06-01'

/**
 * The caller's own Messages body, for a `/v1/messages` request to an Anthropic model (issue 25):
 * sent as it came, so what the gateway's translation does not know (`cache_control` anywhere,
 * `context_management`, `output_config`, documents, server tools, next month's fields) reaches
 * Anthropic, and Anthropic judges it. Only what the gateway owns is changed: `model` (the
 * configured upstream model), `max_tokens` (the admitted request's: lowered to the model's
 * ceiling and the caller's budget), and `stream`, always on (the answer is decoded as a stream
 * whatever the caller asked, as every answer is).
 */
export function passThroughBody(config: AnthropicModelConfig, request: UpstreamRequest): Record<string, unknown> {
  return {
    ...request.native!.body,
    model: config.upstream_model,
    max_tokens: request.max_tokens ?? config.max_tokens,
    stream: true,
  }
}

/**
 * The caller's `anthropic-version` (else this adapter's) and `anthropic-beta`, which switch
 * Anthropic's features on for the body they came with (`context-management-2025-06-27`,
 * `prompt-caching-scope-…`). Nothing else of the caller's headers is sent.
 */
export function passThroughHeaders(request: UpstreamRequest): Record<string, string> {
  const headers = request.native?.headers ?? {}
  const beta = headers['anthropic-beta']
  return {
    'anthropic-version': headers['anthropic-version'] ?? ANTHROPIC_VERSION,
    ...(beta && { 'anthropic-beta': beta }),
  }
}

/** Whether this request goes as the caller sent it (see `passThroughBody`). */
export function isPassThrough(request: UpstreamRequest): boolean {
  return request.native?.dialect === 'messages'
}
