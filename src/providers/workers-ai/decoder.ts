import type { FinishReason, UsageEventData } from '../../schema/chat-events'
import { createSseDecoder, parseJson } from '../sse-decoder'
import type { UpstreamDecoder } from '../types'

/** Workers AI streams one of two shapes, depending on the model, and ends with `data: [DONE]`. */
interface WorkersAIChunk {
  /** The classic shape: `{"response": "text"}`. */
  response?: string | null
  /** The OpenAI-style shape of newer models. */
  choices?: Array<{ delta?: { content?: string | null }; finish_reason?: string | null }>
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | null
}

const FINISH_REASONS: Record<string, FinishReason> = { stop: 'stop', length: 'length', tool_calls: 'tool_calls' }

/**
 * Decodes a Workers AI text-generation stream in either of its shapes. `[DONE]` is the only proof
 * of a complete answer; usage (sent on a late chunk, sometimes more than once) is passed on once.
 */
export function createWorkersAIDecoder(): UpstreamDecoder {
  let finishReason: FinishReason = 'unknown'
  let usage: UsageEventData | undefined
  return createSseDecoder({
    onMessage(message, emit) {
      if (message.data === '[DONE]') {
        if (usage) emit({ type: 'usage', usage })
        return emit({ type: 'done', finishReason })
      }
      const chunk = parseJson<WorkersAIChunk>(message.data, emit)
      if (!chunk) return
      const choice = chunk.choices?.[0]
      const text = chunk.response ?? choice?.delta?.content
      if (text) emit({ type: 'text', text })
      if (choice?.finish_reason) finishReason = FINISH_REASONS[choice.finish_reason] ?? 'unknown'
      if (chunk.usage) {
        const { prompt_tokens = 0, completion_tokens = 0 } = chunk.usage
        usage = {
          prompt_tokens,
          completion_tokens,
          total_tokens: chunk.usage.total_tokens ?? prompt_tokens + completion_tokens,
        }
      }
    },
  })
}
