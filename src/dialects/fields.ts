// The three dialects' field table (was src/routes/shared/dialect-fields.ts).
import type { ErrorIssue } from '../errors'
import { isObject } from '../request/json-shape'
import type { Dialect } from '../events/dialect'

/**
 * What the gateway does with each top-level field of the three requests it translates:
 * Anthropic's Messages (`/v1/messages`), OpenAI's Chat Completions (`/v1/chat/completions`) and
 * OpenAI's Responses (`/v1/responses`). One table, read by all three translations, so a field
 * means the same wherever it is sent and docs/ can print the table as it is.
 *
 * - **carried**: reaches the model as it is, through the gateway's own request schema;
 * - **mapped**: reaches the model in another shape (`output_config.effort` becomes the upstream's
 *   reasoning setting, `system` the system message); the dialect's translation does the mapping;
 * - **ignored**: it only shapes the provider's own service (its logs, caches, abuse checks, server
 *   side context editing), so the answer is the same without it. Dropped, and named in the
 *   `X-Gateway-Ignored` response header and the answer's log line;
 * - **refused**: dropping it would make the answer lie (another number of choices, a hosted tool
 *   that would never run): a 400 naming it, unless it holds its harmless default. A request passed
 *   through to an upstream of its own API (`openai-pass-through.ts`, `messages/pass-through.ts`) takes every field to the model, so
 *   there only the fields whose effect the gateway's answer cannot carry back are refused
 *   (`inAnswer`: more choices, log probabilities, audio), since the answer comes back through the
 *   gateway's own events.
 *
 * A field the table does not know is ignored and named, not refused: agents add fields every
 * month (issue 25), and one that changed what an answer says would be refused here once known.
 */
export type { Dialect }

export type FieldRule = { kind: 'carried' | 'mapped' | 'ignored' } | RefusedRule

interface RefusedRule {
  kind: 'refused'
  reason: string
  harmless: (value: unknown) => boolean
  inAnswer?: boolean
}

const carried = { kind: 'carried' } as const
const mapped = { kind: 'mapped' } as const
const ignored = { kind: 'ignored' } as const
const refused = (reason: string, harmless: (value: unknown) => boolean = isNull): RefusedRule => ({
  kind: 'refused',
  reason,
  harmless,
})
/** Refused even passed through: what it asks for would be in the answer, which the gateway's events cannot carry. */
const notCarriedBack = (reason: string, harmless: (value: unknown) => boolean = isNull): FieldRule => ({
  ...refused(reason, harmless),
  inAnswer: true,
})
const everywhere = (rule: FieldRule) => ({ messages: rule, chat: rule, responses: rule })

/** Per field, per dialect: a dialect without an entry does not have the field (it is unknown there). */
export const FIELD_RULES: Record<string, Partial<Record<Dialect, FieldRule>>> = {
  model: everywhere(carried),
  stream: everywhere(carried),
  temperature: everywhere(carried),
  top_p: everywhere(carried),
  tools: everywhere(carried),
  tool_choice: everywhere(carried),
  messages: { messages: mapped, chat: carried },
  input: { responses: mapped },
  instructions: { responses: mapped },
  system: { messages: mapped },
  max_tokens: { messages: carried, chat: carried },
  max_completion_tokens: { chat: mapped },
  max_output_tokens: { responses: mapped },
  stream_options: { chat: carried, responses: ignored },
  top_k: { messages: carried },
  stop_sequences: { messages: mapped },
  stop: { chat: carried },
  parallel_tool_calls: { chat: carried, responses: carried },
  response_format: { chat: carried },
  text: { responses: mapped },
  reasoning_effort: { chat: carried },
  verbosity: { chat: carried },
  reasoning: { responses: mapped },
  thinking: { messages: mapped },
  output_config: { messages: mapped },
  store: { chat: ignored, responses: carried },
  background: { responses: carried },
  previous_response_id: { responses: carried },

  // The provider's own service: who asked, for its abuse checks; its caches and tiers; its logs.
  metadata: everywhere(ignored),
  service_tier: everywhere(ignored),
  user: { chat: ignored, responses: ignored },
  safety_identifier: { chat: ignored, responses: ignored },
  // Which of OpenAI's prompt caches to use: carried to OpenAI upstreams, of no use to the others.
  prompt_cache_key: { chat: carried, responses: carried },
  prompt_cache_retention: { chat: ignored, responses: ignored },
  client_metadata: { responses: ignored },
  // Extra fields in the response (encrypted reasoning) that a response here never has.
  include: { responses: ignored },
  // Server-side editing of a long context (clearing old thinking or tool results): the answer is the same.
  context_management: { messages: ignored, responses: ignored },
  // Best effort even at OpenAI; and a draft that only makes an answer faster.
  seed: { chat: ignored },
  prediction: { chat: ignored },

  n: { chat: notCarriedBack('the gateway returns one choice per request; n must be 1.', (v) => v == null || v === 1) },
  logprobs: { chat: notCarriedBack('log probabilities are not carried.', (v) => v == null || v === false) },
  top_logprobs: {
    chat: notCarriedBack('log probabilities are not carried.', (v) => v == null || v === 0),
    responses: notCarriedBack('log probabilities are not carried.', (v) => v == null || v === 0),
  },
  logit_bias: {
    chat: refused('logit_bias is not carried.', (v) => v == null || (isObject(v) && !Object.keys(v).length)),
  },
  frequency_penalty: { chat: refused('penalties are not carried.', (v) => v == null || v === 0) },
  presence_penalty: { chat: refused('penalties are not carried.', (v) => v == null || v === 0) },
  audio: { chat: notCarriedBack('audio output is not carried.') },
  modalities: {
    chat: notCarriedBack(
      'only text output is carried.',
      (v) => v == null || (Array.isArray(v) && v.every((m) => m === 'text')),
    ),
  },
  web_search_options: { chat: refused('web search is a hosted tool the gateway cannot run.') },
  // Deprecated function calling answers in `function_call`, which the gateway does not read.
  functions: { chat: notCarriedBack('deprecated by OpenAI; use tools.') },
  function_call: { chat: notCarriedBack('deprecated by OpenAI; use tool_choice.') },
  truncation: { responses: refused('only "disabled" is carried.', (v) => v == null || v === 'disabled') },
  conversation: { responses: refused('conversations are not kept; use previous_response_id.') },
  prompt: { responses: refused('prompt templates are not carried.') },
  max_tool_calls: { responses: refused('a limit on tool calls is not carried.') },
  container: { messages: refused('code execution containers are not carried.') },
  mcp_servers: {
    messages: refused('MCP servers run at Anthropic and are not carried; give the tools as client tools.'),
  },
  output_format: { messages: refused('structured output is not carried; define a tool instead.') },
}

/** A request's top-level fields, sorted by the table. */
export interface SortedFields {
  /** Fields dropped, to be named in `X-Gateway-Ignored` and the log line. */
  ignored: string[]
  /** Fields that would make the answer lie if dropped, each with why: the dialect's 400. */
  refused: ErrorIssue[]
}

/**
 * Sorts a request's fields by `FIELD_RULES`; a field it does not know for this dialect is ignored.
 * `passedThrough`: the body goes to the model as it is, so only what the answer could not carry
 * back is refused (the rest reaches the model; the caller of a translation names nothing ignored).
 */
export function sortFields(
  dialect: Dialect,
  body: Record<string, unknown>,
  { passedThrough = false }: { passedThrough?: boolean } = {},
): SortedFields {
  const sorted: SortedFields = { ignored: [], refused: [] }
  for (const [field, value] of Object.entries(body)) {
    // Own keys only: a field named `constructor` or `__proto__` is unknown, not a rule.
    const rule = Object.hasOwn(FIELD_RULES, field) ? FIELD_RULES[field]![dialect] : undefined
    if (!rule || rule.kind === 'ignored') {
      // A null is no value at all: nothing was asked, so nothing is dropped.
      if (value != null) sorted.ignored.push(field)
    } else if (rule.kind === 'refused' && !rule.harmless(value) && (!passedThrough || rule.inAnswer)) {
      sorted.refused.push({ path: field, message: rule.reason })
    }
  }
  return sorted
}

/**
 * The tool fields of a translated request with nothing to act on dropped: an empty `tools` (some
 * upstreams refuse one), and a `tool_choice` or `parallel_tool_calls` with no tools to choose
 * among, which the `openai` SDKs and agents send and OpenAI-compatible upstreams refuse. The
 * choice and the parallel flag are named as ignored; an empty list loses nothing.
 */
export function withoutIdleToolFields<T extends Record<string, unknown>>(chat: T, ignored: string[]): T {
  const hasTools = Array.isArray(chat.tools) ? chat.tools.length > 0 : chat.tools != null
  if (hasTools) return chat
  const idle = { ...chat, tools: undefined }
  for (const field of ['tool_choice', 'parallel_tool_calls'] as const) {
    if (idle[field] != null) {
      ignored.push(field)
      ;(idle as Record<string, unknown>)[field] = undefined
    }
  }
  return idle
}

function isNull(value: unknown): boolean {
  return value == null
}
