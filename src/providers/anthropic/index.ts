import type { AnthropicModelConfig } from '../../config/models'
import { GatewayError } from '../../errors'
import { cameFromNetwork, fetchUpstream, openEventStream, upstreamRefusal } from '../http'
import type { UpstreamRequest } from '../../request/native-request'
import type { ProviderAdapter } from '../types'
import { createAnthropicDecoder } from './decoder'
import { ANTHROPIC_VERSION, isPassThrough, passThroughBody, passThroughHeaders } from './pass-through'
import { toMessagesBody } from './request'

/**
 * Anthropic's Messages API (`POST /v1/messages`, `stream: true`): the caller's own body where it
 * spoke Messages (`./pass-through.ts`), else the gateway's request translated (`./request.ts`).
 */
export function anthropicAdapter(config: AnthropicModelConfig, apiKey: string): ProviderAdapter {
  const url = `${config.base_url.replace(/\/+$/, '')}/messages`
  const headers = { 'Content-Type': 'application/json', 'x-api-key': apiKey, 'anthropic-version': ANTHROPIC_VERSION }
  return {
    async open(request, { signal }) {
      const native = isPassThrough(request)
      const messagesBody = native ? passThroughBody(config, request) : toMessagesBody(config, request)
      const body = await openEventStream(
        url,
        {
          headers: { ...headers, ...(native && passThroughHeaders(request)), Accept: 'text/event-stream' },
          body: JSON.stringify(messagesBody),
        },
        signal,
      )
      // The caller's own dialect, where the runtime can relay it as it is.
      const relayable = native && cameFromNetwork(body)
      return { body, decoder: createAnthropicDecoder(), ...(relayable && { dialect: 'messages' as const }) }
    },

    /** `POST /v1/messages/count_tokens`: what the request would cost in input tokens, counted by Anthropic. */
    async countTokens(request, { signal }) {
      const response = await fetchUpstream(
        `${url}/count_tokens`,
        {
          method: 'POST',
          headers: { ...headers, ...(isPassThrough(request) && passThroughHeaders(request)) },
          body: JSON.stringify(countTokensBody(config, request)),
        },
        signal,
      )
      if (!response.ok) throw await upstreamRefusal(response)
      const counted = (await response.json().catch(() => null)) as { input_tokens?: unknown } | null
      if (typeof counted?.input_tokens !== 'number') {
        throw new GatewayError(502, 'upstream_invalid_response', 'The model provider did not answer with a count.')
      }
      return counted.input_tokens
    },
  }
}

/** What `count_tokens` takes: the caller's own body where it spoke Messages, without what only an answer takes. */
function countTokensBody(config: AnthropicModelConfig, request: UpstreamRequest) {
  if (isPassThrough(request)) {
    const body = passThroughBody(config, request)
    delete body.max_tokens
    delete body.stream
    return body
  }
  // count_tokens takes no max_tokens: any that passes the thinking budget's check will do.
  const body = toMessagesBody(config, { ...request, max_tokens: Number.MAX_SAFE_INTEGER })
  const { model, system, messages, tools, tool_choice, thinking } = body
  return { model, system, messages, tools, tool_choice, thinking }
}
