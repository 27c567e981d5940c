import type { Context } from 'hono'
import type { AppEnv } from '../../../app-env'
import { GatewayError } from '../../../errors'
import { namespacedNames, type NamespacedName } from '../../../dialects/responses/namespaces'
import type { ChatMessage } from '../../../request/chat-request'
import type { OwnedResponse } from './stored'

/**
 * `GET /v1/responses/{id}/input_items`: the conversation a stored response answered, as the
 * Responses API's input items, in OpenAI's list shape and paging (`limit` 1–100, default 20;
 * `order` `desc`, newest first, by default, or `asc`; `after` an item id from an earlier page).
 *
 * The items are rebuilt from what the response keeps (`KeptResponse.messages`): the messages it
 * answered, its chain's included (`previous_response_id`), without its `instructions`. Their
 * ids are the response's own id with the item's place in that conversation, so every page and
 * every read agree on them; they are not `item_reference`s (those name output items).
 */
export function inputItemsPage(c: Context<AppEnv>, owned: OwnedResponse) {
  const { limit, order, after } = pagingOf(c)
  const items = inputItems(owned.id.replace(/^resp_/, ''), owned.kept.messages, namespacedNames(owned.kept.echo.tools))
  if (order === 'desc') items.reverse()
  let from = 0
  if (after !== undefined) {
    from = items.findIndex((item) => item.id === after) + 1
    if (from === 0) throw badQuery('after', `names no input item of response '${owned.id}'`)
  }
  const data = items.slice(from, from + limit)
  return {
    object: 'list' as const,
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: from + limit < items.length,
  }
}

type InputContent =
  | { type: 'input_text'; text: string }
  | { type: 'input_image'; image_url: string; detail: string }
  | { type: 'output_text'; text: string; annotations: [] }

type InputItem =
  | { id: string; type: 'message'; role: string; status: 'completed'; content: InputContent[] }
  | {
      id: string
      type: 'function_call'
      status: 'completed'
      call_id: string
      name: string
      namespace?: string
      arguments: string
    }
  | { id: string; type: 'function_call_output'; status: 'completed'; call_id: string; output: string }

/**
 * Chat messages as Responses input items, in conversation order: an assistant turn's tool calls
 * follow its text; a call to a namespaced function (`namespaced`, by its flat name) as the caller sent it.
 */
function inputItems(
  base: string,
  messages: readonly ChatMessage[],
  namespaced: Map<string, NamespacedName>,
): InputItem[] {
  const items: InputItem[] = []
  const id = (prefix: string) => `${prefix}_${base}_in${items.length}`
  for (const message of messages) {
    if (message.role === 'tool') {
      const output = typeof message.content === 'string' ? message.content : textParts(message.content)
      items.push({
        id: id('fco'),
        type: 'function_call_output',
        status: 'completed',
        call_id: message.tool_call_id,
        output,
      })
    } else if (message.role === 'assistant') {
      const text = typeof message.content === 'string' ? message.content : textParts(message.content ?? [])
      if (text) {
        const content: InputContent[] = [{ type: 'output_text', text, annotations: [] }]
        items.push({ id: id('msg'), type: 'message', role: 'assistant', status: 'completed', content })
      }
      for (const call of message.tool_calls ?? []) {
        items.push({
          id: id('fc'),
          type: 'function_call',
          status: 'completed',
          call_id: call.id,
          name: call.function.name,
          arguments: call.function.arguments,
          ...namespaced.get(call.function.name),
        })
      }
    } else {
      items.push({
        id: id('msg'),
        type: 'message',
        role: message.role,
        status: 'completed',
        content: contentOf(message),
      })
    }
  }
  return items
}

function contentOf(message: Extract<ChatMessage, { role: 'user' | 'system' }>): InputContent[] {
  if (typeof message.content === 'string') return [{ type: 'input_text', text: message.content }]
  return message.content.map((part) =>
    part.type === 'text'
      ? { type: 'input_text', text: part.text }
      : { type: 'input_image', image_url: part.image_url.url, detail: part.image_url.detail ?? 'auto' },
  )
}

const textParts = (parts: ReadonlyArray<{ type: string; text?: string }>) =>
  parts.map((part) => (part.type === 'text' ? part.text : '')).join('')

/** The list's query, checked: a bad value is a 400 naming it, not a guess. */
function pagingOf(c: Context<AppEnv>): { limit: number; order: 'asc' | 'desc'; after: string | undefined } {
  const limit = c.req.query('limit') ?? '20'
  if (!/^\d{1,3}$/.test(limit) || Number(limit) < 1 || Number(limit) > 100) {
    throw badQuery('limit', 'must be a whole number from 1 to 100')
  }
  const order = c.req.query('order') ?? 'desc'
  if (order !== 'asc' && order !== 'desc') throw badQuery('order', 'must be asc or desc')
  return { limit: Number(limit), order, after: c.req.query('after') || undefined }
}

function badQuery(path: string, message: string): GatewayError {
  return new GatewayError(400, 'invalid_request', `${path} ${message}.`, {
    retryable: false,
    issues: [{ path, message }],
  })
}
