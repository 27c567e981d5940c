import { textOf, type ChatMessage, type ChatRequest } from '../request/chat-request'

/**
 * The messages in OpenAI's own shapes, for upstreams that take them as they are (OpenAI-compatible
 * APIs, Workers AI): without what only Anthropic models take back, an assistant turn's `thinking`
 * blocks, a tool result's `is_error` (its content says what went wrong) and a text part's
 * `cache_control` (a prompt-cache breakpoint these providers do not take: they cache on their
 * own), which a strict OpenAI-compatible server would refuse. The same array when there is
 * nothing to drop.
 */
export function openAIMessages(messages: ChatMessage[]): ChatMessage[] {
  if (!messages.some((m) => 'thinking' in m || 'is_error' in m || hasCacheControl(m.content))) return messages
  return messages.map((message) => {
    const copy = { ...message }
    if (copy.role === 'assistant') delete copy.thinking
    if (copy.role === 'tool') delete copy.is_error
    if (hasCacheControl(copy.content)) {
      const parts = withoutCacheControl(copy.content)
      // A system prompt or tool result of text only, as a string, as it would be without the marks.
      const asText = (copy.role === 'system' || copy.role === 'tool') && parts.every((part) => part.type === 'text')
      copy.content = (asText ? textOf(parts) : parts) as typeof copy.content
    }
    return copy
  })
}

/** The tools without their `cache_control`, for the same upstreams (the `openai` adapter sends the rest as they are); the same array when none has one. */
export function openAITools(tools: ChatRequest['tools']): ChatRequest['tools'] {
  if (!tools?.some((tool) => tool.cache_control)) return tools
  return tools.map(({ cache_control: _, ...tool }) => tool)
}

type Parts = ReadonlyArray<{ type: string; text?: string; cache_control?: unknown }>

function hasCacheControl(content: ChatMessage['content']): content is Parts & typeof content {
  return Array.isArray(content) && (content as Parts).some((part) => part.cache_control !== undefined)
}

function withoutCacheControl(parts: Parts): Parts {
  return parts.map(({ cache_control: _, ...part }) => part)
}
