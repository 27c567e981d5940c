import type { WorkersAIModelConfig } from '../../config/models'
import { unsupportedParameter } from '../../errors'
import { imagesOf, textOf, type ChatRequest } from '../../request/chat-request'
import { openAIMessages, openAITools } from '../openai-messages'
import { refuseToolResultImages } from '../tool-results'

/**
 * The binding's inputs for a request. Workers AI takes OpenAI's shapes (messages with
 * `tool_calls` and `tool_call_id`, `tools`, `tool_choice`, `response_format`), but only some
 * models can call tools (the model's `tools` config says so) and images only as `data:` URLs.
 * Text-only content goes as a string, which every model reads, not only the newer ones.
 */
export function toWorkersAIInputs(config: WorkersAIModelConfig, request: ChatRequest) {
  if (request.tools && !config.tools) {
    throw unsupportedParameter('tools', 'this Workers AI model is not configured for function calling.')
  }
  refuseToolResultImages(request, 'Workers AI')
  for (const { path, image } of imagesOf(request)) {
    if (!image.image_url.url.startsWith('data:')) {
      throw unsupportedParameter(path, 'Workers AI takes images only as data: URLs.')
    }
  }
  return {
    messages: openAIMessages(request.messages).map((message) => {
      const hasImage = Array.isArray(message.content) && message.content.some((part) => part.type === 'image_url')
      return hasImage ? message : { ...message, content: textOf(message.content) }
    }),
    stream: true,
    max_tokens: request.max_tokens,
    temperature: request.temperature,
    top_p: request.top_p,
    top_k: request.top_k,
    ...(request.tools && {
      tools: openAITools(request.tools),
      tool_choice: request.tool_choice,
      parallel_tool_calls: request.parallel_tool_calls,
    }),
    response_format: request.response_format,
  }
}
