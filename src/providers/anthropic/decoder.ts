import { midStreamError, type UpstreamErrorClass } from '../upstream-error'
import type { FinishReason, UsageEventData } from '../../events/chat-events'
import { createSseDecoder, parseJson } from '../sse-decoder'
import { toolCallPieces } from '../tool-calls'
import type { UpstreamDecoder } from '../types'

interface AnthropicUsage {
  input_tokens?: number
  output_tokens?: number
  cache_creation_input_tokens?: number | null
  cache_read_input_tokens?: number | null
}

/** The parts of Anthropic's stream events this decoder reads. */
interface AnthropicEvent {
  type?: string
  message?: { usage?: AnthropicUsage }
  index?: number
  content_block?: { type?: string; id?: string; name?: string; data?: string }
  delta?: {
    type?: string
    text?: string
    thinking?: string
    signature?: string
    partial_json?: string
    stop_reason?: string | null
    stop_sequence?: string | null
  }
  usage?: AnthropicUsage
  error?: { type?: string; message?: string }
}

const FINISH_REASONS: Record<string, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
}

/** Anthropic's error types that describe a passing condition rather than a bad request. */
const RETRYABLE_ERRORS = new Set(['overloaded_error', 'api_error', 'rate_limit_error', 'timeout_error'])

function errorClass(type: string | undefined): UpstreamErrorClass {
  if (type === 'invalid_request_error') return 'invalid_request'
  return RETRYABLE_ERRORS.has(type ?? '') ? 'passing' : 'other'
}

/**
 * Decodes an Anthropic Messages stream: `message_start` (input usage), content blocks (`text`
 * deltas; `thinking` deltas as reasoning, each block's `signature_delta` and a
 * `redacted_thinking` block as reasoning pieces of their own, so a client can send them back;
 * `tool_use` blocks as tool calls, their `input_json_delta`s as the arguments), `ping` (kept as
 * our heartbeat), `message_delta` (stop reason and sequence, output usage), then `message_stop`.
 * A mid-stream `error` event (an HTTP 200 that goes wrong) becomes our `error`:
 * `upstream_overloaded` for `overloaded_error`, `upstream_error` for the rest. A body that ends
 * before `message_stop` was cut off: `upstream_truncated`.
 *
 * Server tools (`server_tool_use`, web search results) ran at Anthropic and are not the client's
 * to answer: they are not tool calls, and only the text written from them is passed on.
 */
export function createAnthropicDecoder(): UpstreamDecoder {
  let finishReason: FinishReason = 'unknown'
  let stopSequence: string | undefined
  const usage: AnthropicUsage = {}
  const toolCalls = toolCallPieces()
  /** Content block index -> tool call index, for the client's tools' blocks. */
  const toolBlocks = new Map<number, number>()
  return createSseDecoder({
    onMessage(message, emit) {
      const event = parseJson<AnthropicEvent>(message.data, emit)
      if (!event) return
      switch (event.type ?? message.event) {
        case 'message_start':
          assignDefined(usage, event.message?.usage)
          break
        case 'content_block_start':
          if (event.content_block?.type === 'tool_use' && event.index !== undefined) {
            const index = toolBlocks.size
            toolBlocks.set(event.index, index)
            emit(toolCalls.piece(index, event.content_block.id, event.content_block.name, ''))
          } else if (event.content_block?.type === 'redacted_thinking' && event.content_block.data) {
            emit({ type: 'reasoning', text: '', redacted: event.content_block.data })
          }
          break
        case 'content_block_delta': {
          const delta = event.delta
          if (delta?.type === 'text_delta' && delta.text) emit({ type: 'text', text: delta.text })
          else if (delta?.type === 'thinking_delta' && delta.thinking) emit({ type: 'reasoning', text: delta.thinking })
          else if (delta?.type === 'signature_delta' && delta.signature) {
            emit({ type: 'reasoning', text: '', signature: delta.signature })
          } else if (delta?.type === 'input_json_delta' && delta.partial_json) {
            const index = toolBlocks.get(event.index ?? -1)
            if (index !== undefined) emit(toolCalls.piece(index, undefined, undefined, delta.partial_json))
          }
          break
        }
        case 'ping':
          emit({ type: 'keepalive' })
          break
        case 'message_delta':
          if (event.delta?.stop_reason) finishReason = FINISH_REASONS[event.delta.stop_reason] ?? 'unknown'
          if (typeof event.delta?.stop_sequence === 'string') stopSequence = event.delta.stop_sequence
          // Its counts are cumulative: where given, they supersede message_start's.
          assignDefined(usage, event.usage)
          break
        case 'message_stop':
          emit({ type: 'usage', usage: toUsage(usage) })
          emit({
            type: 'done',
            finishReason: toolCalls.finishReason(finishReason),
            ...(stopSequence !== undefined && { stopSequence }),
          })
          break
        case 'error':
          emit(
            midStreamError(event.error?.message, errorClass(event.error?.type), {
              upstreamType: event.error?.type,
              code: event.error?.type === 'overloaded_error' ? 'upstream_overloaded' : 'upstream_error',
            }),
          )
          break
      }
    },
  })
}

function assignDefined(target: AnthropicUsage, source: AnthropicUsage | undefined): void {
  for (const [key, value] of Object.entries(source ?? {})) {
    if (typeof value === 'number') target[key as keyof AnthropicUsage] = value
  }
}

function toUsage(usage: AnthropicUsage): UsageEventData {
  // Anthropic counts cached input apart from input_tokens; all of it is prompt the model read,
  // so `prompt_tokens` holds it, and the cached parts are named for pricing and the client.
  const read = usage.cache_read_input_tokens ?? 0
  const written = usage.cache_creation_input_tokens ?? 0
  const prompt = (usage.input_tokens ?? 0) + read + written
  const completion = usage.output_tokens ?? 0
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    ...(read > 0 && { cache_read_tokens: read }),
    ...(written > 0 && { cache_write_tokens: written }),
  }
}
