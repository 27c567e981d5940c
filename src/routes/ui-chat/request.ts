import { GatewayError, invalidRequest, type ErrorIssue } from '../../errors'
import { MAX_PARTS, type ChatRequestLimits } from '../../request/chat-request'
import { isObject, overLength } from '../../request/json-shape'

/**
 * What `DefaultChatTransport` POSTs (`ai` 7.0.173, `src/ui/http-chat-transport.ts`): the app's
 * `body` fields, then `id` (the chat), `messages` (UI messages with `parts`), `trigger` and
 * `messageId`. Unknown fields are allowed, since the SDK and apps add their own; of the
 * gateway's own request fields, those this surface carries pass through to the same schema and
 * limits as `/api/chat`, and the tool fields are refused, never ignored.
 */

/** Carried to the model, through the gateway's own request schema. */
const CARRIED = ['model', 'temperature', 'top_p', 'max_tokens', 'stop', 'response_format'] as const

/** The gateway's fields this surface cannot carry: the UI message stream here has no tool parts. */
const UNSUPPORTED_FIELDS = ['tools', 'tool_choice', 'parallel_tool_calls']

const ROLES = new Set(['system', 'user', 'assistant'])

/**
 * Parts that carry nothing for the model, left out as the SDK's own `convertToModelMessages`
 * leaves them out: step boundaries, the model's own earlier reasoning (not sent back, as on the
 * chat page), sources, and the app's `data-*` parts.
 */
const SKIPPED_PARTS = new Set(['step-start', 'reasoning', 'source-url', 'source-document'])

/** Longest chat id accepted: ids are the client's choice, and name a Durable Object. */
const MAX_CHAT_ID_LENGTH = 256

export interface UIChatRequest {
  chatId: string
  /**
   * Keep the answer for resume and stop (the default), or stream it straight from the upstream,
   * as `/api/chat` does: cheaper and quicker, and leaving (`stop()`) cancels it.
   */
  resumable: boolean
  /** The request in the gateway's terms, unchecked: it goes through `/api/chat`'s schema next. */
  chat: unknown
  /** For each message of `chat`, the index of the UI message it came from (for issue paths). */
  sourceIndex: number[]
}

/**
 * Maps a UI chat request onto the gateway's own: each message's text parts, joined, become its
 * content. A part the gateway cannot carry (a file, a tool call, anything unknown) is a 400
 * `unsupported_parameter` naming it (`messages.2.parts.1`), never dropped. An assistant message
 * with no text (stopped before answering) is left out: it says nothing.
 */
export function fromUIChatRequest(
  body: unknown,
  { maxMessages }: Pick<ChatRequestLimits, 'maxMessages'>,
): UIChatRequest {
  if (!isObject(body)) throw invalidRequest('UI chat request', [{ path: '(body)', message: 'must be a JSON object' }])
  // The list's length before any of its items is read (as sent: an empty assistant message, left out later, counts).
  const tooLong = overLength(body.messages, maxMessages, 'messages')
  if (tooLong) throw invalidRequest('UI chat request', [tooLong])
  const issues: ErrorIssue[] = []
  const unsupported: ErrorIssue[] = []

  const chatId = body.id
  if (typeof chatId !== 'string' || chatId.length < 1 || chatId.length > MAX_CHAT_ID_LENGTH) {
    issues.push({ path: 'id', message: `must be the chat id, a string of 1 to ${MAX_CHAT_ID_LENGTH} characters` })
  }
  if (body.resumable !== undefined && typeof body.resumable !== 'boolean') {
    issues.push({ path: 'resumable', message: 'must be true or false' })
  }
  for (const field of UNSUPPORTED_FIELDS) {
    if (body[field] != null) unsupported.push({ path: field, message: 'tool calls are not carried on /api/ui/chat.' })
  }

  const messages: Array<{ role: string; content: string }> = []
  const sourceIndex: number[] = []
  if (!Array.isArray(body.messages)) {
    issues.push({ path: 'messages', message: 'must be an array of UI messages' })
  } else {
    for (const [m, message] of body.messages.entries()) {
      const converted = fromUIMessage(message, `messages.${m}`, issues, unsupported)
      if (converted) {
        messages.push(converted)
        sourceIndex.push(m)
      }
    }
  }

  if (unsupported.length) {
    throw new GatewayError(400, 'unsupported_parameter', `${unsupported[0]!.path}: ${unsupported[0]!.message}`, {
      retryable: false,
      issues: unsupported,
    })
  }
  if (issues.length) throw invalidRequest('UI chat request', issues)

  const chat: Record<string, unknown> = { messages }
  for (const field of CARRIED) if (body[field] != null) chat[field] = body[field]
  return { chatId: chatId as string, resumable: body.resumable !== false, chat, sourceIndex }
}

/** One UI message as ours, or undefined when it carries nothing (an assistant message with no text). */
function fromUIMessage(
  message: unknown,
  path: string,
  issues: ErrorIssue[],
  unsupported: ErrorIssue[],
): { role: string; content: string } | undefined {
  if (!isObject(message)) return void issues.push({ path, message: 'must be a UI message object' })
  const { role, parts } = message
  if (typeof role !== 'string' || !ROLES.has(role)) {
    return void issues.push({ path: `${path}.role`, message: 'must be "system", "user" or "assistant"' })
  }
  if (!Array.isArray(parts)) return void issues.push({ path: `${path}.parts`, message: 'must be an array of parts' })
  const tooLong = overLength(parts, MAX_PARTS, `${path}.parts`)
  if (tooLong) return void issues.push(tooLong)
  let content = ''
  for (const [p, part] of parts.entries()) {
    const partPath = `${path}.parts.${p}`
    const type = isObject(part) ? part.type : undefined
    if (typeof type !== 'string') {
      issues.push({ path: `${partPath}.type`, message: 'must be a part type' })
    } else if (type === 'text') {
      if (typeof part!.text === 'string') content += part!.text
      else issues.push({ path: `${partPath}.text`, message: 'must be a string' })
    } else if (!SKIPPED_PARTS.has(type) && !type.startsWith('data-')) {
      unsupported.push({ path: partPath, message: `${type} parts are not carried; only text is.` })
    }
  }
  if (role === 'assistant' && content === '') return undefined
  return { role, content }
}

/**
 * The schema's issues at the UI request's paths: a problem with a message's content is one with
 * that UI message's parts (`messages.3.content` → `messages.5.parts`, when messages were left out).
 */
export function atUIPaths(issues: ErrorIssue[], sourceIndex: number[]): ErrorIssue[] {
  return issues.map((issue) => {
    const match = /^messages\.(\d+)(\.content.*)?$/.exec(issue.path)
    if (!match) return issue
    const index = sourceIndex[Number(match[1])] ?? Number(match[1])
    return { ...issue, path: match[2] ? `messages.${index}.parts` : `messages.${index}` }
  })
}
