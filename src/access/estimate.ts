import type { ChatRequest } from '../request/chat-request'
import { jsonChars } from '../request/json-limits'

/**
 * The prompt's tokens, estimated from everything sent upstream: about four characters a token for
 * its messages (plus a few per message for the chat template), its tool definitions and its
 * `response_format` schema as JSON, and each image at a flat rate. Used to reserve budget before
 * the answer starts, and to charge an answer that ends without the upstream's usage.
 */
export function estimatePromptTokens(request: ChatRequest): number {
  let tokens = 0
  for (const message of request.messages) tokens += Math.ceil(messageChars(message) / 4) + 4
  // Providers put tool definitions and schemas into the prompt: they cost what text of their size does.
  if (request.tools) tokens += Math.ceil(jsonChars(request.tools) / 4)
  if (request.response_format) tokens += Math.ceil(jsonChars(request.response_format) / 4)
  return tokens
}

/**
 * Providers charge an image by its size, which the gateway does not decode: a generous flat
 * rate (OpenAI's high-detail 1024×1024 image is 765 tokens; Anthropic's ~1,600 at most for a
 * 1.15-megapixel one; Gemini's 258 a tile).
 */
export const IMAGE_TOKENS_ESTIMATE = 1000

/** A message's size in characters for the estimate, an image counted as its token rate times four. */
function messageChars(message: ChatRequest['messages'][number]): number {
  const { content } = message
  let chars = typeof content === 'string' ? content.length : 0
  if (Array.isArray(content)) {
    for (const part of content) chars += part.type === 'text' ? part.text.length : IMAGE_TOKENS_ESTIMATE * 4
  }
  if ('tool_calls' in message && message.tool_calls) {
    for (const call of message.tool_calls) chars += call.function.name.length + call.function.arguments.length
  }
  return chars
}
