import { z } from 'zod'

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
    content: z.string().max(maxMessageChars),
  })
  return z.strictObject({
    model: z.string().min(1).max(256).optional(),
    messages: z.array(message).min(1).max(maxMessages),
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().min(0).max(1).optional(),
    max_tokens: z.number().int().positive().optional(),
    stop: z.union([z.string(), z.array(z.string()).max(4)]).optional(),
  })
}

export type ChatRequest = z.infer<ReturnType<typeof chatRequestSchema>>
export type ChatMessage = ChatRequest['messages'][number]
