import type { ChatMessage } from '../request/chat-request'

/**
 * The messages in OpenAI's own shapes, for upstreams that take them as they are (OpenAI-compatible
 * APIs, Workers AI): without what only Anthropic models take back, an assistant turn's `thinking`
 * blocks and a tool result's `is_error` (its content says what went wrong), which a strict
 * OpenAI-compatible server would refuse. The same array when there is nothing to drop.
 */
export function openAIMessages(messages: ChatMessage[]): ChatMessage[] {
  if (!messages.some((m) => 'thinking' in m || 'is_error' in m)) return messages
  return messages.map((message) => {
    if (message.role !== 'assistant' && message.role !== 'tool') return message
    const copy = { ...message }
    if (copy.role === 'assistant') delete copy.thinking
    else delete copy.is_error
    return copy
  })
}
