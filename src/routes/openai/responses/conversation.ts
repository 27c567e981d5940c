import type { Context } from 'hono'
import type { AppEnv } from '../../../app-env'
import { GatewayError } from '../../../errors'
import type { ChatMessage } from '../../../request/chat-request'
import { jsonChars } from '../../../request/json-limits'
import type { FilledIn } from '../../../dialects/responses/pass-through'
import type { ResponsesRequest } from '../../../dialects/responses/request'
import { conversationBefore, itemResolver, storingPrincipal } from './stored'

/**
 * The messages to send, with the caller's path for each: `instructions`, the conversation
 * `previous_response_id` continues, and the input, its `item_reference`s filled in (at most
 * `MAX_MESSAGES` of them, which the translation made sure of, each item resolved once).
 *
 * Filled in, a small request can grow: 99 references to one long item once made a 6 KB body into
 * a 3.2 MB request sent upstream and stored. So the conversation is held to the size of the
 * largest body the gateway accepts (`MAX_BODY_BYTES`, as characters of JSON), counted as it
 * grows: past it, a 413 naming the part that crossed it, before anything more is resolved.
 */
export async function conversation(c: Context<AppEnv>, request: ResponsesRequest): Promise<Conversation> {
  const limit = c.var.config.maxBodyBytes
  const messages: unknown[] = []
  const sources: string[] = []
  let size = 0
  const add = (source: string, added: unknown[]) => {
    size += jsonChars(added)
    if (size > limit) throw conversationTooLarge(source, limit)
    messages.push(...added)
    sources.push(...added.map(() => source))
  }
  if (request.instructions !== undefined) add('instructions', [{ role: 'system', content: request.instructions }])
  if (request.references.length) await storingPrincipal(c, 'item_reference')
  const expanded: Conversation['expanded'] = { previous: [], references: new Map() }
  if (request.previousResponseId) {
    expanded.previous = await conversationBefore(c, request.previousResponseId)
    add('previous_response_id', expanded.previous)
  }
  const referenced = itemResolver(c)
  const references = new Map(request.references.map((reference) => [reference.at, reference]))
  for (const [i, message] of request.chat.messages.entries()) {
    const reference = references.get(i)
    if (reference) {
      const resolved = await referenced(reference.id, reference.path)
      expanded.references.set(reference.path, resolved)
      add(reference.path, resolved)
    } else add(request.sources[i]!, [message])
  }
  return { messages: joinToolCalls(messages), sources, expanded }
}

export interface Conversation {
  messages: unknown[]
  sources: string[]
  /**
   * What the gateway filled in from its storage: the conversation `previous_response_id` names,
   * and each `item_reference`'s messages by the reference's path (`input.3`), for a body passed
   * through (`../../../dialects/responses/pass-through.ts`), which carries them in its `input`.
   */
  expanded: FilledIn
}

function conversationTooLarge(source: string, limit: number): GatewayError {
  return new GatewayError(
    413,
    'conversation_too_large',
    `The conversation, with its previous response and item references filled in, is larger than ${limit} characters of JSON (MAX_BODY_BYTES).`,
    { retryable: false, issues: [{ path: source, message: `takes the conversation past ${limit} characters` }] },
  )
}

/**
 * An assistant turn referred to by id, then the calls it made sent in full, are one turn in
 * Chat Completions' shape (the AI SDK sends its tool loops so).
 */
function joinToolCalls(messages: unknown[]): unknown[] {
  const joined: unknown[] = []
  for (const message of messages) {
    const previous = joined.at(-1) as Partial<Extract<ChatMessage, { role: 'assistant' }>> | undefined
    const current = message as Partial<Extract<ChatMessage, { role: 'assistant' }>>
    if (
      previous?.role === 'assistant' &&
      current?.role === 'assistant' &&
      current.content == null &&
      current.tool_calls
    ) {
      joined[joined.length - 1] = { ...previous, tool_calls: [...(previous.tool_calls ?? []), ...current.tool_calls] }
    } else joined.push(message)
  }
  return joined
}
