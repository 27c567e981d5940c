import * as z from 'zod/mini'
import '../schema/zod'
import { GatewayError } from '../errors'

/**
 * The part of OpenAI's Chat Completions request the gateway understands. Unlike `/api/chat`,
 * unknown fields are ignored rather than refused: existing OpenAI clients send many (`n`, `user`,
 * `seed`...) and must work unchanged.
 */
const textPart = z.object({ type: z.literal('text'), text: z.string() })
const openAIRequest = z.object({
  model: z.string(),
  messages: z.array(
    z.object({
      role: z.enum(['system', 'developer', 'user', 'assistant']),
      content: z.union([z.string(), z.array(textPart)]),
    }),
  ),
  stream: z.optional(z.nullable(z.boolean())),
  stream_options: z.optional(z.nullable(z.object({ include_usage: z.optional(z.boolean()) }))),
  temperature: z.optional(z.nullable(z.number())),
  top_p: z.optional(z.nullable(z.number())),
  max_tokens: z.optional(z.nullable(z.number())),
  max_completion_tokens: z.optional(z.nullable(z.number())),
  stop: z.optional(z.nullable(z.union([z.string(), z.array(z.string())]))),
})

/**
 * Maps an OpenAI request onto the gateway's own. The result is unchecked (`unknown`) on purpose:
 * it goes through the same schema and limits as `/api/chat` next.
 */
export function fromOpenAIRequest(body: unknown): { chat: unknown; stream: boolean; includeUsage: boolean } {
  const result = openAIRequest.safeParse(body)
  if (!result.success) {
    throw new GatewayError(400, 'invalid_request', 'The request does not match the Chat Completions schema.', {
      retryable: false,
      issues: result.error.issues.map((issue) => ({ path: issue.path.join('.') || '(body)', message: issue.message })),
    })
  }
  const r = result.data
  const chat = {
    model: r.model,
    messages: r.messages.map((m) => ({
      role: m.role === 'developer' ? 'system' : m.role,
      content: typeof m.content === 'string' ? m.content : m.content.map((part) => part.text).join(''),
    })),
    temperature: r.temperature ?? undefined,
    top_p: r.top_p ?? undefined,
    max_tokens: r.max_completion_tokens ?? r.max_tokens ?? undefined,
    stop: r.stop ?? undefined,
  }
  return { chat, stream: r.stream === true, includeUsage: r.stream_options?.include_usage === true }
}
