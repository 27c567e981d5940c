import type { OpenAIModelConfig } from '../../config/models'
import { unsupportedParameter } from '../../errors'
import type { ChatRequest } from '../../request/chat-request'
import { cameFromNetwork, openEventStream } from '../http'
import { openAIMessages, openAITools } from '../openai-messages'
import { refuseToolResultImages } from '../tool-results'
import type { ProviderAdapter } from '../types'
import { createOpenAIDecoder } from './decoder'
import { passThroughChatBody, passThroughResponsesBody } from './pass-through'
import { toResponsesBody } from './responses-body'
import { createResponsesDecoder } from './responses-decoder'
import { responsesEndpoints } from './responses-endpoints'

/**
 * Any OpenAI API with `stream: true`: Chat Completions (`api = "chat"`: OpenAI, Groq, vLLM,
 * Ollama's `/v1`, Xinference) or Responses (`api = "responses"`: OpenAI). A caller of the same API
 * has its own body sent on (`pass-through.ts`); any other gets the gateway's request translated.
 * The base URL and key come from the gateway's config and secrets, never the client.
 */
export function openAIAdapter(config: OpenAIModelConfig, apiKey: string | undefined): ProviderAdapter {
  const base = config.base_url.replace(/\/+$/, '')
  const headers = {
    'Content-Type': 'application/json',
    ...(apiKey && { Authorization: `Bearer ${apiKey}` }),
  }
  const responses = config.api === 'responses'
  const adapter: ProviderAdapter = {
    async open(request, { signal }) {
      const own = request.native?.dialect === config.api ? request.native : undefined
      const model = config.upstream_model
      const payload = responses
        ? own
          ? passThroughResponsesBody(model, request, own)
          : toResponsesBody(model, request)
        : own
          ? passThroughChatBody(model, request, own)
          : toChatCompletionsBody(model, request)
      const body = await openEventStream(
        `${base}/${responses ? 'responses' : 'chat/completions'}`,
        { headers: { ...headers, Accept: 'text/event-stream' }, body: JSON.stringify(payload) },
        signal,
      )
      const decoder = responses ? createResponsesDecoder() : createOpenAIDecoder()
      // The caller's own dialect, where the runtime can relay it as it is.
      return { body, decoder, ...(own && cameFromNetwork(body) && { dialect: own.dialect }) }
    },
  }
  if (responses) {
    const endpoints = responsesEndpoints(config.upstream_model, base, headers)
    adapter.countTokens = endpoints.countTokens
    adapter.compact = endpoints.compact
  }
  return adapter
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
    tools: openAITools(request.tools),
    tool_choice: request.tool_choice,
    parallel_tool_calls: request.parallel_tool_calls,
    response_format: request.response_format,
    reasoning_effort: request.reasoning_effort,
    verbosity: request.verbosity,
    prompt_cache_key: request.prompt_cache_key,
  }
}
