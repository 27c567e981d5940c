import { GatewayError, invalidRequest, type ErrorIssue } from '../../errors'
import { MAX_TOOLS, type ChatRequestLimits } from '../../request/chat-request'
import { isObject, overLength, typeName } from '../../request/json-shape'
import { sortFields, withoutIdleToolFields } from '../fields'

/**
 * OpenAI's Chat Completions request in the gateway's terms. Which fields are carried, ignored
 * (and named in `X-Gateway-Ignored`) or refused is `FIELD_RULES`, shared by every translated
 * surface: a field refused there is one whose loss would change what the answer claims (`n: 2`).
 */

/** Message fields dropped and named: a participant's `name`, and an assistant turn's `refusal` (its text is in `content`). */
const IGNORED_MESSAGE_FIELDS = new Set(['name', 'refusal'])

/** Content part types OpenAI has that no adapter carries. */
const UNSUPPORTED_PARTS = new Set(['input_audio', 'file'])

/**
 * Maps an OpenAI request onto the gateway's own. The result is unchecked (`unknown`) on purpose:
 * it goes through the same schema and limits as `/api/chat` next, at the same paths, so an issue
 * in `messages.0.content.1` is reported there.
 */
export function fromOpenAIRequest(
  body: unknown,
  { maxMessages }: Pick<ChatRequestLimits, 'maxMessages'>,
  { lenient = false }: { lenient?: boolean } = {},
): {
  chat: unknown
  stream: boolean
  includeUsage: boolean
  ignored: string[]
} {
  if (!isObject(body)) throw invalidRequest('Chat Completions', [{ path: '(body)', message: 'must be a JSON object' }])
  // The lists' lengths before any of their items is read.
  const tooLong = overLength(body.messages, maxMessages, 'messages') ?? overLength(body.tools, MAX_TOOLS, 'tools')
  if (tooLong) throw invalidRequest('Chat Completions', [tooLong])
  const { ignored, refused: unsupported } = sortFields('chat', body, { passedThrough: lenient })
  const messages = Array.isArray(body.messages)
    ? body.messages.map((m, i) => fromOpenAIMessage(m, i, unsupported, ignored, lenient))
    : body.messages
  if (unsupported.length) {
    throw new GatewayError(400, 'unsupported_parameter', `${unsupported[0]!.path}: ${unsupported[0]!.message}`, {
      retryable: false,
      issues: unsupported,
    })
  }
  if (typeof body.model !== 'string')
    throw invalidRequest('Chat Completions', [{ path: 'model', message: 'is required' }])

  const streamOptions = isObject(body.stream_options) ? body.stream_options : {}
  const chat = withoutIdleToolFields(
    {
      model: body.model,
      messages,
      temperature: body.temperature ?? undefined,
      top_p: body.top_p ?? undefined,
      max_tokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
      stop: body.stop ?? undefined,
      tools: body.tools ?? undefined,
      tool_choice: body.tool_choice ?? undefined,
      parallel_tool_calls: body.parallel_tool_calls ?? undefined,
      response_format: body.response_format ?? undefined,
      reasoning_effort: body.reasoning_effort ?? undefined,
      verbosity: body.verbosity ?? undefined,
      prompt_cache_key: body.prompt_cache_key ?? undefined,
    },
    ignored,
  )
  return {
    chat,
    stream: body.stream === true,
    includeUsage: streamOptions.include_usage === true,
    ignored: [...new Set(ignored)],
  }
}

/**
 * One message in the gateway's terms: `developer` is the system prompt, and what is not carried is
 * named; `lenient` (passed through) leaves it out of the translation instead.
 */
function fromOpenAIMessage(
  message: unknown,
  index: number,
  unsupported: ErrorIssue[],
  ignored: string[],
  lenient: boolean,
): unknown {
  if (!isObject(message)) return message
  const mapped: Record<string, unknown> = {}
  for (const [field, value] of Object.entries(message)) {
    if (IGNORED_MESSAGE_FIELDS.has(field)) {
      if (value != null) ignored.push(field)
      continue
    }
    if ((field === 'audio' || field === 'function_call') && (value == null || lenient)) continue
    if (field === 'audio') unsupported.push({ path: `messages.${index}.audio`, message: 'audio is not carried.' })
    else if (field === 'function_call') {
      unsupported.push({ path: `messages.${index}.function_call`, message: 'deprecated by OpenAI; use tool_calls.' })
    } else {
      // Defined, not assigned: assigning `__proto__` would set the prototype rather than pass the
      // field on to the schema, which refuses it by name like any other unknown field.
      Object.defineProperty(mapped, field, { value, enumerable: true, writable: true, configurable: true })
    }
  }
  if (mapped.role === 'developer') mapped.role = 'system'
  if (Array.isArray(mapped.content)) {
    // Passed through, the upstream reads these parts; the gateway's request goes without them.
    if (lenient)
      mapped.content = mapped.content.filter((part) => !isObject(part) || !UNSUPPORTED_PARTS.has(part.type as string))
    for (const [p, part] of (mapped.content as unknown[]).entries()) {
      if (isObject(part) && UNSUPPORTED_PARTS.has(part.type as string)) {
        unsupported.push({
          path: `messages.${index}.content.${p}`,
          message: `${typeName(part.type)} parts are not carried.`,
        })
      }
    }
  }
  return mapped
}
