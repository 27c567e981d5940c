import type { AnthropicModelConfig } from '../../config'
import type { ChatRequest } from '../../schema/chat-request'
import { openEventStream } from '../http'
import type { ProviderAdapter } from '../types'
import { createAnthropicDecoder } from './decoder'

/** The API version this adapter speaks; Anthropic requires it on every request. */
const ANTHROPIC_VERSION = '2023-06-01'

/** Anthropic's Messages API (`POST /v1/messages`, `stream: true`). */
export function anthropicAdapter(config: AnthropicModelConfig, apiKey: string): ProviderAdapter {
  const url = `${config.base_url.replace(/\/+$/, '')}/messages`
  return {
    async open(request, { signal }) {
      const body = await openEventStream(
        url,
        {
          headers: {
            'Content-Type': 'application/json',
            Accept: 'text/event-stream',
            'x-api-key': apiKey,
            'anthropic-version': ANTHROPIC_VERSION,
          },
          body: JSON.stringify(toMessagesBody(config, request)),
        },
        signal,
      )
      return { body, decoder: createAnthropicDecoder() }
    },
  }
}

/**
 * Anthropic takes the system prompt apart from the turns, requires `max_tokens`, and calls stop
 * strings `stop_sequences`.
 */
function toMessagesBody(config: AnthropicModelConfig, request: ChatRequest) {
  const system = request.messages.filter((m) => m.role === 'system').map((m) => m.content)
  return {
    model: config.upstream_model,
    max_tokens: request.max_tokens ?? config.max_tokens,
    ...(system.length && { system: system.join('\n\n') }),
    messages: request.messages.filter((m) => m.role !== 'system'),
    temperature: request.temperature,
    top_p: request.top_p,
    stop_sequences: typeof request.stop === 'string' ? [request.stop] : request.stop,
    stream: true,
  }
}
