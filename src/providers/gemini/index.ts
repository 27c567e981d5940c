import type { GeminiModelConfig } from '../../config/models'
import { openEventStream } from '../http'
import type { ProviderAdapter } from '../types'
import { createGeminiDecoder } from './decoder'
import { toGenerateContentBody } from './request'

/** Google's Gemini API (`models/{model}:streamGenerateContent?alt=sse`). */
export function geminiAdapter(config: GeminiModelConfig, apiKey: string): ProviderAdapter {
  const url = `${config.base_url.replace(/\/+$/, '')}/models/${encodeURIComponent(config.upstream_model)}:streamGenerateContent?alt=sse`
  return {
    async open(request, { signal }) {
      const generateContentBody = toGenerateContentBody(config, request)
      const body = await openEventStream(
        url,
        {
          // The key goes in a header, never the URL, so it cannot end up in a logged address.
          headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream', 'x-goog-api-key': apiKey },
          body: JSON.stringify(generateContentBody),
        },
        signal,
      )
      return { body, decoder: createGeminiDecoder() }
    },
  }
}
