import type { OpenAIModelConfig } from '../../config/models'
import { unsupportedParameter } from '../../errors'
import type { ChatRequest } from '../../request/chat-request'
import { openEventStream } from '../http'
import { openAIMessages } from '../openai-messages'
import { refuseToolResultImages } from '../tool-results'
import type { ProviderAdapter } from '../types'
import { createOpenAIDecoder } from './decoder'

/**
 * Any OpenAI Chat Completions API with `stream: true`: OpenAI, Groq, vLLM, Ollama's `/v1`,
 * Xinference. The base URL and key come from the gateway's config and secrets, never the client.
 */
export function openAIAdapter(config: OpenAIModelConfig, apiKey: string | undefined): ProviderAdapter {
  const url = `${config.base_url.replace(/\/+$/, '')}/chat/completions`
  return {
    async open(request, { signal }) {
      const body = await openEventStream(
        url,
        {
          headers: {
            'Content-Type': 'application/json',
            Accept: 'text/event-stream',
            ...(apiKey && { Authorization: `Bearer ${apiKey}` }),
          },
          body: JSON.stringify(toChatCompletionsBody(config.upstream_model, request)),
        },
        signal,
      )
      return { body, decoder: createOpenAIDecoder() }
    },
  }
}

/**
 * The gateway's request already has OpenAI's shapes (content parts, tools, tool calls,
 * `response_format`), so it goes upstream as it came, validated field by field. Chat Completions
 * has no `top_k`; a request's `thinking` is not refused, since these models reason as they do.
 */
export function toChatCompletionsBody(model: string, request: ChatRequest) {
  refuseToolResultImages(request, 'OpenAI-compatible')
  if (request.top_k !== undefined) {
    throw unsupportedParameter('top_k', 'OpenAI-compatible models take no top_k; use temperature or top_p.')
  }
  return {
    model,
    messages: openAIMessages(request.messages),
    stream: true,
    // Without this, usage never arrives on a stream.
    stream_options: { include_usage: true },
    temperature: request.temperature,
    top_p: request.top_p,
    max_tokens: request.max_tokens,
    stop: request.stop,
    tools: request.tools,
    tool_choice: request.tool_choice,
    parallel_tool_calls: request.parallel_tool_calls,
    response_format: request.response_format,
  }
}
