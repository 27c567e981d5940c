import { unsupportedParameter } from '../errors'
import type { ChatRequest } from '../request/chat-request'

/**
 * Refuses an image in a tool's result, naming it, for providers whose tool results are text only
 * (OpenAI-compatible APIs, Workers AI, Gemini): sent on, it would be refused by the provider or
 * dropped without a word. Anthropic reads them, so a screenshot a tool returns reaches Claude.
 */
export function refuseToolResultImages(request: ChatRequest, provider: string): void {
  for (const [m, message] of request.messages.entries()) {
    if (message.role !== 'tool' || typeof message.content === 'string') continue
    for (const [p, part] of message.content.entries()) {
      if (part.type === 'image_url') {
        throw unsupportedParameter(
          `messages.${m}.content.${p}`,
          `${provider} models take no images in a tool's result.`,
        )
      }
    }
  }
}
