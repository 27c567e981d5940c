// The Responses dialect's stream encoder and `response` object (was
// src/formats/openai-responses.ts), registered as `openai-responses` in ../../formats/index.ts.
import type { ErrorEventData, FinishReason, StartEventData, UsageEventData } from '../../events/chat-events'
import type { LiveEncoder, ReplayEncoder } from '../../events/encoders'
import type { StoredEvent } from '../../events/stored-event'
import { HEARTBEAT } from '../../sse/encode'
import { EVENT_STREAM_HEADERS } from '../../sse/headers'
import { replayThroughLive } from '../../formats/adapters'
import type { WireFormat } from '../../formats/types'
import { namespacedNames } from './namespaces'

/**
 * The request's settings a `response` object repeats back (`instructions`, `tools`, ...), as
 * OpenAI's own responses do: plain JSON, chosen by the route, kept beside a stored answer.
 */
export type ResponseEcho = Record<string, unknown>

/** What a Responses request chooses about its stream. */
export interface OpenAIResponsesOptions {
  /** Fields every `response` object in the stream carries besides the answer's own. */
  echo?: ResponseEcho
  /**
   * `starting_after`: write only the events whose `sequence_number` is above it. A reader of a
   * stored answer is replayed from the answer's first event, whatever this says, because the
   * events depend on all that came before them (which item is open, its index, the text so far
   * that `.done` repeats): the encoder is rebuilt event by event and only the output is skipped.
   */
  startingAfter?: number
}

/**
 * OpenAI's Responses API stream (`POST /v1/responses` with `stream: true`), checked against the
 * `openai` SDK 7.57 (`src/resources/responses/responses.ts`, `internal/responses/response-accumulator`)
 * and the AI SDK's `@ai-sdk/openai` 4 (`src/responses/openai-responses-api.ts`). Each event is
 * `event: <type>` and `data: {"type": …, "sequence_number": n, …}`, numbered from 0:
 *
 * - `response.created`, `response.in_progress`, with the response as it starts;
 * - text as a `message` item: `output_item.added`, `content_part.added` (`output_text`),
 *   `output_text.delta`s, then `output_text.done`, `content_part.done`, `output_item.done`;
 * - reasoning as a `reasoning` item with one `reasoning_text` part, the same way;
 * - each tool call as a `function_call` item: `output_item.added` (with `call_id` and `name`),
 *   `function_call_arguments.delta`s, then `.done` and `output_item.done`; a call to a function
 *   the request gave inside a `namespace` tool (sent upstream flat) with the caller's `name` and
 *   its `namespace` (`./namespaces.ts`, derived from the echoed `tools`);
 * - exactly one end: `response.completed` (with `usage`); `response.incomplete` when the model
 *   stopped at its token limit (`max_output_tokens`) or its content filter; an `error` event
 *   (`code`, `message`, as OpenAI's streams send one) then `response.failed` with `error.code`
 *   ours for any failure, and for a stop (`cancelled`), whose response says
 *   `status: "cancelled"` (OpenAI's stream has no event of its own for a cancelled response:
 *   the `response.cancelled` it documents is a webhook). A cut answer never ends `completed`.
 *
 * A new item opens whenever the model switches between thinking, answering and calling tools;
 * item ids are the response's id with the item's index, so live and replayed streams agree.
 */
export const openAIResponsesFormat: WireFormat<OpenAIResponsesOptions> = {
  headers: EVENT_STREAM_HEADERS,
  live: (options) => responseWriter(options).encoder,
  // Stored events are handed to the live encoder from the answer's first event (see `startingAfter`).
  replay: responseReplay,
  // OpenAI's own stream, relayed: a cut one ends in the `error` event the `openai` SDKs raise on
  // (without a sequence number: the provider's count is its own; no SDK checks it).
  relay: () => ({
    dialect: 'responses',
    heartbeat: HEARTBEAT,
    error: ({ code, message }) =>
      `event: error\ndata: ${JSON.stringify({ type: 'error', code, message, param: null })}\n\n`,
  }),
}

/** An item of the response's `output` as it is being written. */
type OutputItem = MessageItem | ReasoningItem | FunctionCallItem

interface MessageItem {
  id: string
  type: 'message'
  status: ItemStatus
  role: 'assistant'
  content: Array<{ type: 'output_text'; text: string; annotations: []; logprobs: [] }>
}

interface ReasoningItem {
  id: string
  type: 'reasoning'
  status: ItemStatus
  summary: []
  content: Array<{ type: 'reasoning_text'; text: string }>
}

interface FunctionCallItem {
  id: string
  type: 'function_call'
  status: ItemStatus
  call_id: string
  name: string
  /** The namespace of a function the request gave inside a `namespace` tool; `name` is then the inner name. */
  namespace?: string
  arguments: string
}

type ItemStatus = 'in_progress' | 'completed' | 'incomplete'

/** The status a response ends with, by how the answer ended. */
export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed' | 'cancelled'

/**
 * The stored events of an answer as the `response` object stands after them (in progress, or as
 * it ended): what `GET /v1/responses/{id}` answers and what a chain of responses is rebuilt from.
 */
export function responseSnapshot(events: StoredEvent[], echo: ResponseEcho) {
  const writer = responseWriter({ echo, startingAfter: Number.MAX_SAFE_INTEGER })
  replayOver(writer).encode(events)
  return writer.snapshot()
}

/**
 * The live encoder over stored events, but for text deltas, whose stored JSON is
 * handed over as it is: a replay from `starting_after` near the end of a long answer encodes
 * thousands of deltas only to skip them, and parses none of them.
 */
function responseReplay(options: OpenAIResponsesOptions): ReplayEncoder {
  return replayOver(responseWriter(options))
}

function replayOver(writer: ReturnType<typeof responseWriter>): ReplayEncoder {
  const others = replayThroughLive(writer.encoder)
  return {
    preamble: '',
    heartbeat: HEARTBEAT,
    encode(events) {
      let out = ''
      for (const event of events) {
        if (event.event === 'delta') out += writer.textDelta('message', textLiteral(event.data))
        else out += others.encode([event])
      }
      return out
    },
  }
}

const TEXT_PREFIX = '{"text":'

/**
 * The JSON string in a stored `delta`: its data is `{"text": …}` as `JSON.stringify` wrote it
 * (text is its only field), so the string is everything between the prefix and the last brace.
 */
function textLiteral(data: string): string {
  if (data.startsWith(TEXT_PREFIX) && data.endsWith('"}')) return data.slice(TEXT_PREFIX.length, -1)
  return JSON.stringify((JSON.parse(data) as { text: string }).text)
}

/** The live encoder, and the response as it stands after what it has been given. */
function responseWriter({ echo = {}, startingAfter = -1 }: OpenAIResponsesOptions): {
  encoder: LiveEncoder
  snapshot(): ReturnType<typeof responseObject> | undefined
  /** A delta whose text is already a JSON string (a stored event's), written without parsing it. */
  textDelta(kind: 'message' | 'reasoning', literal: string): string
} {
  let ended: { status: ResponseStatus; end: Partial<ResponseEnd> } | undefined
  let sequence = 0
  let start: StartEventData | undefined
  let itemBase = ''
  const output: OutputItem[] = []
  const namespaced = namespacedNames(echo.tools)
  /** The message or reasoning item text goes to now, if one is open. */
  let openText: MessageItem | ReasoningItem | undefined
  /**
   * The open item's text so far, as JSON-escaped pieces joined (each delta's JSON string without
   * its quotes): parsed once, when the text is needed whole, never per delta. A replay hands the
   * stored deltas' JSON over as it is, so skipping events before `starting_after` parses nothing.
   */
  let openEscaped = ''
  /** Writes the open item's text into its part, where the response or a `.done` event shows it. */
  const settleText = () => {
    if (openText) openText.content[0]!.text = JSON.parse(`"${openEscaped}"`) as string
  }
  /** Open tool calls: output index by the call's index. */
  let openCalls = new Map<number, number>()
  let usage: UsageEventData | undefined

  /** One event, numbered; written only when it is past `startingAfter`. */
  const event = (type: string, fields: string): string => {
    const n = sequence++
    if (n <= startingAfter) return ''
    return `event: ${type}\ndata: {"type":"${type}","sequence_number":${n}${fields}}\n\n`
  }
  const json = JSON.stringify

  const addItem = (item: OutputItem): number => {
    output.push(item)
    return output.length - 1
  }

  const closeText = (): string => {
    const item = openText
    if (!item) return ''
    settleText()
    openText = undefined
    const index = output.indexOf(item)
    const part = item.content[0]!
    const at = `,"item_id":"${item.id}","output_index":${index},"content_index":0`
    item.status = 'completed'
    const doneType = item.type === 'message' ? 'response.output_text.done' : 'response.reasoning_text.done'
    const logprobs = item.type === 'message' ? ',"logprobs":[]' : ''
    return (
      event(doneType, `${at},"text":${json(part.text)}${logprobs}`) +
      event('response.content_part.done', `${at},"part":${json(part)}`) +
      event('response.output_item.done', `,"output_index":${index},"item":${json(item)}`)
    )
  }

  const closeCalls = (): string => {
    let out = ''
    for (const index of openCalls.values()) {
      const item = output[index] as FunctionCallItem
      item.status = 'completed'
      out +=
        event(
          'response.function_call_arguments.done',
          `,"item_id":"${item.id}","output_index":${index},"name":${json(item.name)},"arguments":${json(item.arguments)}`,
        ) + event('response.output_item.done', `,"output_index":${index},"item":${json(item)}`)
    }
    openCalls = new Map()
    return out
  }

  let deltaHead = ''
  let deltaItem = ''
  let deltaTail = ''
  /** A delta of text or reasoning, opening its item (and part) first when another kind (or none) is open. */
  const textDelta = (kind: 'message' | 'reasoning', literal: string): string => {
    let out = ''
    let item = openText
    if (item?.type !== kind) {
      out += closeText() + closeCalls()
      const index = output.length
      item =
        kind === 'message'
          ? { id: `msg_${itemBase}_${index}`, type: 'message', status: 'in_progress', role: 'assistant', content: [] }
          : { id: `rs_${itemBase}_${index}`, type: 'reasoning', status: 'in_progress', summary: [], content: [] }
      addItem(item)
      openText = item
      openEscaped = ''
      const part =
        kind === 'message'
          ? { type: 'output_text' as const, text: '', annotations: [] as [], logprobs: [] as [] }
          : { type: 'reasoning_text' as const, text: '' }
      out +=
        event('response.output_item.added', `,"output_index":${index},"item":${json(item)}`) +
        event(
          'response.content_part.added',
          `,"item_id":"${item.id}","output_index":${index},"content_index":0,"part":${json(part)}`,
        )
      ;(item.content as Array<typeof part>).push(part)
      const type = kind === 'message' ? 'response.output_text.delta' : 'response.reasoning_text.delta'
      deltaHead = `event: ${type}\ndata: {"type":"${type}","sequence_number":`
      deltaItem = `,"item_id":"${item.id}","output_index":${index},"content_index":0,"delta":`
      deltaTail = kind === 'message' ? ',"logprobs":[]}\n\n' : '}\n\n'
    }
    openEscaped += literal.slice(1, -1)
    // The hot path: one template per delta, its fixed parts made once per item.
    const n = sequence++
    if (n <= startingAfter) return out
    return `${out}${deltaHead}${n}${deltaItem}${literal}${deltaTail}`
  }

  /** The response object as it stands, in the shape OpenAI's `Response` has. */
  const responseNow = (status: ResponseStatus, end: Partial<ResponseEnd> = {}) => {
    settleText()
    return responseObject({
      id: start!.id,
      createdAt: start!.created,
      model: start!.model,
      status,
      output,
      echo,
      ...end,
    })
  }
  const response = (status: ResponseStatus, end: Partial<ResponseEnd> = {}) => {
    if (status !== 'in_progress') ended = { status, end }
    return json(responseNow(status, end))
  }

  const snapshot = () => start && (ended ? responseNow(ended.status, ended.end) : responseNow('in_progress'))

  const encoder: LiveEncoder = {
    start(started) {
      start = started
      itemBase = started.id.replace(/^resp_/, '')
      return (
        event('response.created', `,"response":${response('in_progress')}`) +
        event('response.in_progress', `,"response":${response('in_progress')}`)
      )
    },
    text: (text) => textDelta('message', json(text)),
    // A signature or redacted thinking (Anthropic's, with no text) has no place in a Responses stream.
    reasoning: (text) => (text ? textDelta('reasoning', json(text)) : ''),
    toolCall({ index: callIndex, id, name, argumentsDelta }) {
      let out = ''
      let index = openCalls.get(callIndex)
      if (index === undefined) {
        out += closeText()
        const item: FunctionCallItem = {
          id: `fc_${itemBase}_${output.length}`,
          type: 'function_call',
          status: 'in_progress',
          call_id: id ?? `call_${itemBase}_${output.length}`,
          name: name ?? '',
          arguments: '',
          ...namespaced.get(name ?? ''),
        }
        index = addItem(item)
        openCalls.set(callIndex, index)
        out += event('response.output_item.added', `,"output_index":${index},"item":${json(item)}`)
      }
      if (!argumentsDelta) return out
      const item = output[index] as FunctionCallItem
      item.arguments += argumentsDelta
      return (
        out +
        event(
          'response.function_call_arguments.delta',
          `,"item_id":"${item.id}","output_index":${index},"delta":${json(argumentsDelta)}`,
        )
      )
    },
    usage(counts) {
      // Reported with the response's end, as OpenAI does.
      usage = counts
      return ''
    },
    done(finishReason) {
      const out = closeText() + closeCalls()
      if (!incompleteReason(finishReason))
        return out + event('response.completed', `,"response":${response('completed', { usage })}`)
      return out + event('response.incomplete', `,"response":${response('incomplete', { usage, finishReason })}`)
    },
    error(error) {
      // Items still open stay as they are, marked incomplete: no `.done` for a cut answer.
      for (const item of output) if (item.status === 'in_progress') item.status = 'incomplete'
      const status = error.code === 'cancelled' ? 'cancelled' : 'failed'
      // `error` first, as OpenAI's own streams: the `openai` SDKs raise on it (and so LangChain,
      // which reads only `completed`/`incomplete` and would otherwise return the cut text as whole);
      // `response.failed` after it, for clients that read the stream to its end.
      const failure = `,"code":${json(error.code)},"message":${json(error.message)},"param":null`
      return event('error', failure) + event('response.failed', `,"response":${response(status, { usage, error })}`)
    },
    heartbeat: () => HEARTBEAT,
  }
  return { encoder, snapshot, textDelta }
}

interface ResponseEnd {
  usage: UsageEventData | undefined
  error: ErrorEventData | undefined
  finishReason: FinishReason
}

/** Why a response that ended by itself is `incomplete`, in OpenAI's terms; undefined when it is complete. */
function incompleteReason(finishReason: FinishReason): 'max_output_tokens' | 'content_filter' | undefined {
  if (finishReason === 'length') return 'max_output_tokens'
  if (finishReason === 'content_filter') return 'content_filter'
  return undefined
}

/** What a `response` object is made of; `responseObject` shapes it. */
export interface ResponseParts {
  id: string
  /** Unix seconds. */
  createdAt: number
  model: string
  status: ResponseStatus
  output: readonly object[]
  echo: ResponseEcho
  usage?: UsageEventData
  error?: ErrorEventData
  /** How the answer ended, when `status` is `incomplete`. */
  finishReason?: FinishReason
}

/** The `response` object, as every event that carries one and `GET /v1/responses/{id}` show it. */
export function responseObject({
  id,
  createdAt,
  model,
  status,
  output,
  echo,
  usage,
  error,
  finishReason,
}: ResponseParts) {
  const reason = status === 'incomplete' ? (incompleteReason(finishReason ?? 'length') ?? 'max_output_tokens') : null
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status,
    background: false,
    error: error ? { code: error.code, message: error.message } : null,
    incomplete_details: reason ? { reason } : null,
    instructions: null,
    max_output_tokens: null,
    metadata: {},
    model,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: null,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: null,
    truncation: 'disabled',
    ...echo,
    usage: usage ? toResponsesUsage(usage) : null,
  }
}

/** Our counts in the Responses API's names. */
export function toResponsesUsage({
  prompt_tokens,
  completion_tokens,
  total_tokens,
  reasoning_tokens,
  cache_read_tokens,
}: UsageEventData) {
  return {
    input_tokens: prompt_tokens,
    // A part of input_tokens, as ours is a part of prompt_tokens.
    input_tokens_details: { cached_tokens: cache_read_tokens ?? 0 },
    output_tokens: completion_tokens,
    output_tokens_details: { reasoning_tokens: reasoning_tokens ?? 0 },
    total_tokens,
  }
}
