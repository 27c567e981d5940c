import type { FinishReason } from '../../schema/chat-events'
import { createSseDecoder, parseJson } from '../sse-decoder'
import type { UpstreamDecoder } from '../types'

/** The parts of a `chat.completion.chunk` this decoder reads. */
interface ChatCompletionChunk {
  choices?: Array<{
    delta?: { content?: string | null; refusal?: string | null }
    finish_reason?: string | null
  }>
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | null
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

/**
 * Decodes an OpenAI Chat Completions stream (`data: {chunk}` events, then `data: [DONE]`).
 *
 * The answer is complete when `[DONE]` arrives, or when the body ends cleanly after a
 * `finish_reason` (some compatible servers omit `[DONE]`). A body that ends with neither was cut
 * off, and becomes an `upstream_truncated` error.
 */
export function createOpenAIDecoder(): UpstreamDecoder {
  let finishReason: FinishReason | undefined
  return createSseDecoder({
    onMessage(message, emit) {
      if (message.data === '[DONE]') return emit({ type: 'done', finishReason: finishReason ?? 'unknown' })
      const chunk = parseJson<ChatCompletionChunk>(message.data, emit)
      if (!chunk) return
      if (chunk.error || message.event === 'error') {
        const error = chunk.error ?? {}
        return emit({
          type: 'error',
          code: 'upstream_error',
          message: String(error.message ?? 'The model provider reported an error.').slice(0, 500),
          retryable: RETRYABLE_ERROR.test(`${error.type ?? ''} ${error.code ?? ''}`),
        })
      }
      const choice = chunk.choices?.[0]
      if (choice) {
        // A refusal is the model's answer too; the user should read it.
        const text = choice.delta?.content || choice.delta?.refusal
        if (text) emit({ type: 'text', text })
        if (choice.finish_reason) finishReason = FINISH_REASONS[choice.finish_reason] ?? 'unknown'
      }
      if (chunk.usage) {
        const { prompt_tokens = 0, completion_tokens = 0 } = chunk.usage
        const total_tokens = chunk.usage.total_tokens ?? prompt_tokens + completion_tokens
        emit({ type: 'usage', usage: { prompt_tokens, completion_tokens, total_tokens } })
      }
    },
    onEnd(emit) {
      if (finishReason) emit({ type: 'done', finishReason })
    },
  })
}
