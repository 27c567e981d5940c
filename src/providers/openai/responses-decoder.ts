import type { FinishReason, UsageEventData } from '../../events/chat-events'
import { createSseDecoder, parseJson } from '../sse-decoder'
import { toolCallPieces } from '../tool-calls'
import type { UpstreamDecoder } from '../types'
import { midStreamError, type UpstreamErrorClass } from '../upstream-error'
import { flatToolName } from '../../request/namespaced-tool'

/** OpenAI Responses usage, as `response.completed` (and `.incomplete`) carries it. */
export interface ResponsesUsage {
  input_tokens?: number
  output_tokens?: number
  total_tokens?: number
  input_tokens_details?: { cached_tokens?: number | null } | null
  output_tokens_details?: { reasoning_tokens?: number | null } | null
}

/** The parts of a Responses stream event this decoder reads. */
interface ResponsesStreamEvent {
  type?: string
  delta?: string
  output_index?: number
  item?: { type?: string; call_id?: string; name?: string; namespace?: string; arguments?: string }
  response?: {
    usage?: ResponsesUsage | null
    incomplete_details?: { reason?: string } | null
    error?: { code?: string; message?: string } | null
  }
  /** The `error` event's own fields. */
  code?: string | null
  message?: string
}

const INCOMPLETE_REASONS: Record<string, FinishReason> = {
  max_output_tokens: 'length',
  content_filter: 'content_filter',
}

/** Error codes (OpenAI's, and the compatible servers' that copy them) worth retrying. */
const RETRYABLE_ERROR = /server_error|overloaded|rate_limit|timeout|unavailable/i

function errorClass(code: string): UpstreamErrorClass {
  if (/invalid|unsupported|not_found|too_large|context_length/i.test(code)) return 'invalid_request'
  return RETRYABLE_ERROR.test(code) ? 'passing' : 'other'
}

/**
 * Decodes an OpenAI Responses stream (`event: response.…` + `data: {…, "type": "response.…"}`):
 * output text (and refusals) as text, reasoning summaries and reasoning text as reasoning,
 * `function_call` items as tool calls (numbered in the order they start, by `call_id`, their
 * arguments from the argument deltas), and usage from the terminal event. Items the gateway has
 * no event for (a hosted `web_search_call`, a reasoning item's encrypted content) pass unseen:
 * the text the model wrote after them is the answer.
 *
 * Terminal: `response.completed` (stop, or tool_calls when it called any), `response.incomplete`
 * (length, or content_filter), `response.failed` and `error` (an error event). A body that ends
 * before one of them was cut off: `upstream_truncated`.
 */
export function createResponsesDecoder(): UpstreamDecoder {
  const toolCalls = toolCallPieces()
  /** Our call index for each output item that is a function call, by its `output_index`. */
  const calls = new Map<number, number>()
  return createSseDecoder({
    onMessage(message, emit) {
      // Some servers (and OpenAI's SDK fixtures) end with Chat Completions' marker after the
      // terminal event; alone it ends nothing, and the body's end says the answer was cut off.
      if (message.data === '[DONE]') return
      const event = parseJson<ResponsesStreamEvent>(message.data, emit)
      if (!event) return
      switch (event.type ?? message.event) {
        case 'response.output_text.delta':
        case 'response.refusal.delta':
          if (event.delta) emit({ type: 'text', text: event.delta })
          return
        case 'response.reasoning_summary_text.delta':
        case 'response.reasoning_text.delta':
          if (event.delta) emit({ type: 'reasoning', text: event.delta })
          return
        case 'response.output_item.added': {
          const item = event.item
          if (item?.type !== 'function_call') return
          const index = calls.size
          calls.set(event.output_index ?? index, index)
          // A call into a namespace (Codex's sub-agent tools, passed through) gets the flat name the
          // gateway's own request gives it, which the Responses encoder reports back namespaced.
          const name =
            item.namespace && item.name ? flatToolName({ namespace: item.namespace, name: item.name }) : item.name
          return emit(toolCalls.piece(index, item.call_id, name, item.arguments ?? ''))
        }
        case 'response.function_call_arguments.delta': {
          const index = calls.get(event.output_index ?? -1)
          if (index !== undefined && event.delta) emit(toolCalls.piece(index, undefined, undefined, event.delta))
          return
        }
        case 'response.completed':
          usageOf(event, emit)
          return emit({ type: 'done', finishReason: toolCalls.finishReason('stop') })
        case 'response.incomplete': {
          usageOf(event, emit)
          const reason = event.response?.incomplete_details?.reason ?? ''
          return emit({ type: 'done', finishReason: INCOMPLETE_REASONS[reason] ?? 'unknown' })
        }
        case 'response.failed': {
          const error = event.response?.error ?? {}
          return emit(midStreamError(error.message, errorClass(error.code ?? ''), { upstreamType: error.code }))
        }
        case 'error':
          return emit(
            midStreamError(event.message, errorClass(event.code ?? ''), { upstreamType: event.code ?? undefined }),
          )
      }
    },
  })
}

function usageOf(event: ResponsesStreamEvent, emit: (event: { type: 'usage'; usage: UsageEventData }) => void) {
  const usage = event.response?.usage
  if (usage) emit({ type: 'usage', usage: fromResponsesUsage(usage) })
}

/** Our usage from the Responses API's, with reasoning and cached tokens where reported. */
export function fromResponsesUsage(usage: ResponsesUsage): UsageEventData {
  const { input_tokens: prompt_tokens = 0, output_tokens: completion_tokens = 0 } = usage
  const out: UsageEventData = {
    prompt_tokens,
    completion_tokens,
    total_tokens: usage.total_tokens ?? prompt_tokens + completion_tokens,
  }
  const reasoning = usage.output_tokens_details?.reasoning_tokens
  if (typeof reasoning === 'number') out.reasoning_tokens = reasoning
  const cached = usage.input_tokens_details?.cached_tokens
  if (typeof cached === 'number' && cached > 0) out.cache_read_tokens = cached
  return out
}
