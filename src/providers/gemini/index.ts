import type { GeminiModelConfig } from '../../config'
import type { ChatRequest } from '../../schema/chat-request'
import { openEventStream } from '../http'
import type { ProviderAdapter } from '../types'
import { createGeminiDecoder } from './decoder'

/** Google's Gemini API (`models/{model}:streamGenerateContent?alt=sse`). */
export function geminiAdapter(config: GeminiModelConfig, apiKey: string): ProviderAdapter {
  const url = `${config.base_url.replace(/\/+$/, '')}/models/${encodeURIComponent(config.upstream_model)}:streamGenerateContent?alt=sse`
  return {
    async open(request, { signal }) {
      const body = await openEventStream(
        url,
        {
          // The key goes in a header, never the URL, so it cannot end up in a logged address.
          headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream', 'x-goog-api-key': apiKey },
          body: JSON.stringify(toGenerateContentBody(request)),
        },
        signal,
      )
      return { body, decoder: createGeminiDecoder() }
    },
  }
}

/** Gemini calls the assistant `model`, takes the system prompt apart, and nests the sampling settings. */
function toGenerateContentBody(request: ChatRequest) {
  const system = request.messages.filter((m) => m.role === 'system').map((m) => ({ text: m.content }))
  return {
    ...(system.length && { systemInstruction: { parts: system } }),
    contents: request.messages
      .filter((m) => m.role !== 'system')
      .map((m) => ({ role: m.role === 'assistant' ? 'model' : 'user', parts: [{ text: m.content }] })),
    generationConfig: {
      temperature: request.temperature,
      topP: request.top_p,
      maxOutputTokens: request.max_tokens,
      stopSequences: typeof request.stop === 'string' ? [request.stop] : request.stop,
    },
  }
}
