import type { ChatRequest } from '../request/chat-request'

/** About four characters a token, plus a few per message for the chat template. */
export function estimatePromptTokens(request: ChatRequest): number {
  return request.messages.reduce((sum, message) => sum + Math.ceil(messageChars(message) / 4) + 4, 0)
}

/** Providers charge an image by its size, which the gateway does not decode: a generous flat guess. */
const IMAGE_TOKENS_ESTIMATE = 1000

/** A message's size in characters for the estimate, an image counted as its token guess times four. */
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
