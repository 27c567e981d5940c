import { GatewayError, invalidRequest, type ErrorIssue } from '../../errors'
import { MAX_TOOLS, type ChatRequestLimits } from '../../request/chat-request'
import { isObject, overLength, typeName } from '../../request/json-shape'

/**
 * What the gateway does with each field of OpenAI's Chat Completions request. Nothing is ignored
 * that a caller could rely on: a field the gateway cannot carry is refused with a 400 naming it
 * (unless it holds its harmless default), and a field OpenAI itself does not know is refused too,
 * as OpenAI does. Only metadata that changes nothing about the answer is dropped.
 */

/** Carried to the model, through the gateway's own request schema (same checks and limits as `/api/chat`). */
const CARRIED = new Set([
  'model',
  'messages',
  'stream',
  'stream_options',
  'temperature',
  'top_p',
  'max_tokens',
  'max_completion_tokens',
  'stop',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
  'reasoning_effort',
  'verbosity',
])

/**
 * Dropped: bookkeeping for OpenAI's own platform (`user`, `metadata`, `store`,
 * `safety_identifier`, prompt caching keys), a billing tier, and `seed`, which even OpenAI
 * documents as best effort.
 */
const IGNORED = new Set([
  'user',
  'metadata',
  'store',
  'service_tier',
  'seed',
  'safety_identifier',
  'prompt_cache_key',
  'prompt_cache_retention',
])

/** Refused unless they hold their default, each with why: the caller relies on them, and they would not happen. */
const UNSUPPORTED: Record<string, { harmless: (value: unknown) => boolean; reason: string }> = {
  n: { harmless: (v) => v == null || v === 1, reason: 'the gateway returns one choice per request; n must be 1.' },
  logprobs: { harmless: (v) => v == null || v === false, reason: 'log probabilities are not carried.' },
  top_logprobs: { harmless: (v) => v == null || v === 0, reason: 'log probabilities are not carried.' },
  logit_bias: { harmless: (v) => v == null || isEmptyObject(v), reason: 'logit_bias is not carried.' },
  frequency_penalty: { harmless: (v) => v == null || v === 0, reason: 'penalties are not carried.' },
  presence_penalty: { harmless: (v) => v == null || v === 0, reason: 'penalties are not carried.' },
  audio: { harmless: (v) => v == null, reason: 'audio output is not carried.' },
  modalities: {
    harmless: (v) => v == null || (Array.isArray(v) && v.every((m) => m === 'text')),
    reason: 'only text output is carried.',
  },
  prediction: { harmless: (v) => v == null, reason: 'predicted outputs are not carried.' },
  web_search_options: { harmless: (v) => v == null, reason: 'web search is not carried.' },
  functions: { harmless: (v) => v == null, reason: 'deprecated by OpenAI; use tools.' },
  function_call: { harmless: (v) => v == null, reason: 'deprecated by OpenAI; use tool_choice.' },
}

/** Message fields dropped: a participant's `name`, and an assistant turn's `refusal` (its text is in `content`). */
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
): { chat: unknown; stream: boolean; includeUsage: boolean } {
  if (!isObject(body)) throw invalidRequest('Chat Completions', [{ path: '(body)', message: 'must be a JSON object' }])
  // The lists' lengths before any of their items is read.
  const tooLong = overLength(body.messages, maxMessages, 'messages') ?? overLength(body.tools, MAX_TOOLS, 'tools')
  if (tooLong) throw invalidRequest('Chat Completions', [tooLong])
  const unsupported: ErrorIssue[] = []
  const unknown: ErrorIssue[] = []
  for (const [field, value] of Object.entries(body)) {
    // Own properties only: a field named `constructor` or `__proto__` is an unknown field, not a rule.
    const rule = Object.hasOwn(UNSUPPORTED, field) ? UNSUPPORTED[field] : undefined
    if (rule) {
      if (!rule.harmless(value)) unsupported.push({ path: field, message: rule.reason })
    } else if (!CARRIED.has(field) && !IGNORED.has(field)) {
      unknown.push({ path: field, message: 'is not a Chat Completions field' })
    }
  }
  const messages = Array.isArray(body.messages)
    ? body.messages.map((m, i) => fromOpenAIMessage(m, i, unsupported))
    : body.messages
  if (unsupported.length) {
    throw new GatewayError(400, 'unsupported_parameter', `${unsupported[0]!.path}: ${unsupported[0]!.message}`, {
      retryable: false,
      issues: unsupported,
    })
  }
  if (typeof body.model !== 'string') unknown.unshift({ path: 'model', message: 'is required' })
  if (unknown.length) throw invalidRequest('Chat Completions', unknown)

  const streamOptions = isObject(body.stream_options) ? body.stream_options : {}
  const chat = {
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
  }
  return { chat, stream: body.stream === true, includeUsage: streamOptions.include_usage === true }
}

/** One message in the gateway's terms: `developer` is the system prompt, and what is not carried is named. */
function fromOpenAIMessage(message: unknown, index: number, unsupported: ErrorIssue[]): unknown {
  if (!isObject(message)) return message
  const mapped: Record<string, unknown> = {}
  for (const [field, value] of Object.entries(message)) {
    if (IGNORED_MESSAGE_FIELDS.has(field)) continue
    if ((field === 'audio' || field === 'function_call') && value == null) continue
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
    for (const [p, part] of mapped.content.entries()) {
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

function isEmptyObject(value: unknown): boolean {
  return isObject(value) && Object.keys(value).length === 0
}
