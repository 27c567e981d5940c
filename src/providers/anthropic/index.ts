import type { AnthropicModelConfig } from '../../config/models'
import { openEventStream } from '../http'
import type { ProviderAdapter } from '../types'
import { createAnthropicDecoder } from './decoder'
import { toMessagesBody } from './request'

/** The API version this adapter speaks; Anthropic requires it on every request. */
const ANTHROPIC_VERSION = '2023-06-01'

/** Anthropic's Messages API (`POST /v1/messages`, `stream: true`). */
export function anthropicAdapter(config: AnthropicModelConfig, apiKey: string): ProviderAdapter {
  const url = `${config.base_url.replace(/\/+$/, '')}/messages`
  return {
    async open(request, { signal }) {
      const messagesBody = toMessagesBody(config, request)
      const body = await openEventStream(
        url,
        {
          headers: {
            'Content-Type': 'application/json',
            Accept: 'text/event-stream',
            'x-api-key': apiKey,
            'anthropic-version': ANTHROPIC_VERSION,
          },
          body: JSON.stringify(messagesBody),
        },
        signal,
      )
      return { body, decoder: createAnthropicDecoder() }
    },
  }
}
