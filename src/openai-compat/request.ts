import * as v from 'valibot'
import { GatewayError } from '../errors'
import { describeIssues } from '../schema/chat-request'

/**
 * The part of OpenAI's Chat Completions request the gateway understands. Unlike `/api/chat`,
 * unknown fields are ignored rather than refused: existing OpenAI clients send many (`n`, `user`,
 * `seed`...) and must work unchanged.
 */
const textPart = v.object({ type: v.literal('text'), text: v.string() })
const openAIRequest = v.object({
  model: v.string(),
  messages: v.array(
    v.object({
      role: v.picklist(['system', 'developer', 'user', 'assistant']),
      content: v.union([v.string(), v.array(textPart)]),
    }),
  ),
  stream: v.nullish(v.boolean()),
  stream_options: v.nullish(v.object({ include_usage: v.optional(v.boolean()) })),
  temperature: v.nullish(v.number()),
  top_p: v.nullish(v.number()),
  max_tokens: v.nullish(v.number()),
  max_completion_tokens: v.nullish(v.number()),
  stop: v.nullish(v.union([v.string(), v.array(v.string())])),
})

/**
 * Maps an OpenAI request onto the gateway's own. The result is unchecked (`unknown`) on purpose:
 * it goes through the same schema and limits as `/api/chat` next.
 */
export function fromOpenAIRequest(body: unknown): { chat: unknown; stream: boolean; includeUsage: boolean } {
  const result = v.safeParse(openAIRequest, body)
  if (!result.success) {
    throw new GatewayError(400, 'invalid_request', 'The request does not match the Chat Completions schema.', {
      retryable: false,
      issues: describeIssues(result.issues),
    })
  }
  const r = result.output
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
