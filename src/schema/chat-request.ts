import * as z from 'zod/mini'
import './zod'

export interface ChatRequestLimits {
  maxMessages: number
  maxMessageChars: number
}

/**
 * The body of `POST /api/chat`. Strict: an unknown field is an error rather than silently
 * ignored, so a typo (`max_token`) never goes unnoticed.
 */
export function chatRequestSchema({ maxMessages, maxMessageChars }: ChatRequestLimits) {
  const message = z.strictObject({
    role: z.enum(['system', 'user', 'assistant']),
    content: z.string().check(z.maxLength(maxMessageChars)),
  })
  return z.strictObject({
    model: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
    messages: z.array(message).check(z.minLength(1), z.maxLength(maxMessages)),
    temperature: z.optional(z.number().check(z.minimum(0), z.maximum(2))),
    top_p: z.optional(z.number().check(z.minimum(0), z.maximum(1))),
    max_tokens: z.optional(z.int().check(z.positive())),
    stop: z.optional(z.union([z.string(), z.array(z.string()).check(z.maxLength(4))])),
  })
}

export type ChatRequest = z.infer<ReturnType<typeof chatRequestSchema>>
export type ChatMessage = ChatRequest['messages'][number]
