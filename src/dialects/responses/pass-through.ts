import { isObject } from '../../request/json-shape'
import type { NativeRequest } from '../../request/native-request'
import { responsesInputOf } from '../../request/responses-input'
import type { ChatMessage } from '../../request/chat-request'

/**
 * What the route filled in from the gateway's storage (`Conversation['expanded']` in
 * `routes/openai/responses/conversation.ts`): the conversation `previous_response_id` names, and
 * each `item_reference`'s messages by the reference's path (`input.3`).
 */
export interface FilledIn {
  previous: ChatMessage[]
  references: Map<string, ChatMessage[]>
}

/**
 * The caller's Responses body, to be sent as it is to a model served through OpenAI's Responses
 * API (issue 25). The gateway stores responses itself and the upstream is asked to store nothing
 * (`store: false`), so the upstream could not resolve a `previous_response_id` or an
 * `item_reference` of the gateway's: the route fills them in, as it does for a translated request,
 * and the body goes with the conversation they name in its `input` (its earlier `instructions`
 * are not carried on, as OpenAI does). Every other field stays as the caller sent it; the adapter
 * sets the fields the gateway owns (`providers/openai/pass-through.ts`).
 */
export function nativeResponses(body: Record<string, unknown>, { expanded }: { expanded: FilledIn }): NativeRequest {
  if (!expanded.previous.length && !expanded.references.size && body.previous_response_id == null) {
    return { dialect: 'responses', body }
  }
  const items = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : body.input
  const input = [
    ...responsesInputOf(expanded.previous),
    ...(Array.isArray(items) ? items : []).flatMap((item: unknown, i) => {
      const referenced = isObject(item) && item.type === 'item_reference' && expanded.references.get(`input.${i}`)
      return referenced ? responsesInputOf(referenced) : [item]
    }),
  ]
  const filled: Record<string, unknown> = { ...body, input }
  delete filled.previous_response_id
  return { dialect: 'responses', body: filled }
}
