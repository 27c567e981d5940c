import { midStreamError, type UpstreamErrorClass } from '../upstream-error'
import type { FinishReason, UsageEventData } from '../../events/chat-events'
import { createSseDecoder, parseJson } from '../sse-decoder'
import { toolCallPieces } from '../tool-calls'
import type { UpstreamDecoder } from '../types'

/** A piece of a tool call in a chunk's `delta.tool_calls`. */
export interface ToolCallChunk {
  index?: number
  id?: string | null
  function?: { name?: string | null; arguments?: string | null }
}

/** OpenAI's usage, as OpenAI-compatible servers send it (the details where they have them). */
export interface ChatCompletionUsage {
  prompt_tokens?: number
  completion_tokens?: number
  total_tokens?: number
  completion_tokens_details?: { reasoning_tokens?: number | null } | null
  /** `cached_tokens`: the part of `prompt_tokens` read from OpenAI's prompt cache. */
  prompt_tokens_details?: { cached_tokens?: number | null } | null
}

/** The parts of a `chat.completion.chunk` this decoder reads. */
interface ChatCompletionChunk {
  choices?: Array<{
    delta?: {
      content?: string | null
      refusal?: string | null
      /** DeepSeek, vLLM (older) and most compatible servers. */
      reasoning_content?: string | null
      /** OpenRouter, Groq, vLLM (newer). */
      reasoning?: string | null
      tool_calls?: ToolCallChunk[] | null
    }
    finish_reason?: string | null
  }>
  usage?: ChatCompletionUsage | null
  error?: { message?: string; type?: string; code?: string | null }
}

const FINISH_REASONS: Record<string, FinishReason> = {
  stop: 'stop',
  length: 'length',
  content_filter: 'content_filter',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls',
}

/** Error types (OpenAI's, and the compatible servers' that copy them) worth retrying. */
const RETRYABLE_ERROR = /server_error|overloaded|rate_limit|timeout|unavailable/i

function errorClass(kind: string): UpstreamErrorClass {
  if (/invalid_request/i.test(kind)) return 'invalid_request'
  return RETRYABLE_ERROR.test(kind) ? 'passing' : 'other'
}

/**
 * Decodes an OpenAI Chat Completions stream (`data: {chunk}` events, then `data: [DONE]`): text,
 * reasoning (`reasoning_content` or `reasoning`), tool call pieces (`tool_calls`), usage.
 *
 * The answer is complete when `[DONE]` arrives, or when the body ends cleanly after a
 * `finish_reason` (some compatible servers omit `[DONE]`). A body that ends with neither was cut
 * off, and becomes an `upstream_truncated` error.
 */
export function createOpenAIDecoder(): UpstreamDecoder {
  let finishReason: FinishReason | undefined
  const toolCalls = toolCallPieces()
  return createSseDecoder({
    onMessage(message, emit) {
      if (message.data === '[DONE]') {
        return emit({ type: 'done', finishReason: toolCalls.finishReason(finishReason ?? 'unknown') })
      }
      const chunk = parseJson<ChatCompletionChunk>(message.data, emit)
      if (!chunk) return
      if (chunk.error || message.event === 'error') {
        const error = chunk.error ?? {}
        const kind = `${error.type ?? ''} ${error.code ?? ''}`
        return emit(midStreamError(error.message, errorClass(kind), { upstreamType: kind.trim() || undefined }))
      }
      const choice = chunk.choices?.[0]
      if (choice) {
        const delta = choice.delta
        if (delta) {
          const reasoning = delta.reasoning_content || delta.reasoning
          if (reasoning) emit({ type: 'reasoning', text: reasoning })
          // A refusal is the model's answer too; the user should read it.
          const text = delta.content || delta.refusal
          if (text) emit({ type: 'text', text })
          if (delta.tool_calls) {
            for (const [position, call] of delta.tool_calls.entries()) {
              const args = call.function?.arguments ?? ''
              const index = call.index ?? position
              // Pieces with nothing new (an empty continuation) are not worth an event.
              if (args || !toolCalls.started(index)) {
                emit(toolCalls.piece(index, call.id ?? undefined, call.function?.name ?? undefined, args))
              }
            }
          }
        }
        if (choice.finish_reason) finishReason = FINISH_REASONS[choice.finish_reason] ?? 'unknown'
      }
      if (chunk.usage) emit({ type: 'usage', usage: fromChatCompletionUsage(chunk.usage) })
    },
    onEnd(emit) {
      if (finishReason) emit({ type: 'done', finishReason: toolCalls.finishReason(finishReason) })
    },
  })
}

/** Our usage from OpenAI's, with reasoning and cached tokens where the server reports them. */
export function fromChatCompletionUsage(usage: ChatCompletionUsage): UsageEventData {
  const { prompt_tokens = 0, completion_tokens = 0 } = usage
  const out: UsageEventData = {
    prompt_tokens,
    completion_tokens,
    total_tokens: usage.total_tokens ?? prompt_tokens + completion_tokens,
  }
  const reasoning_tokens = usage.completion_tokens_details?.reasoning_tokens
  if (typeof reasoning_tokens === 'number') out.reasoning_tokens = reasoning_tokens
  const cached = usage.prompt_tokens_details?.cached_tokens
  if (typeof cached === 'number' && cached > 0) out.cache_read_tokens = cached
  return out
}
