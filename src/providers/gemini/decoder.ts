import type { FinishReason, UsageEventData } from '../../schema/chat-events'
import { createSseDecoder, parseJson } from '../sse-decoder'
import type { UpstreamDecoder } from '../types'

/** The parts of a `GenerateContentResponse` this decoder reads. */
interface GeminiChunk {
  candidates?: Array<{ content?: { parts?: Array<{ text?: string; thought?: boolean }> }; finishReason?: string }>
  usageMetadata?: { promptTokenCount?: number; candidatesTokenCount?: number; totalTokenCount?: number }
  error?: { code?: number; message?: string; status?: string }
}

const FINISH_REASONS: Record<string, FinishReason> = {
  STOP: 'stop',
  MAX_TOKENS: 'length',
  SAFETY: 'content_filter',
  RECITATION: 'content_filter',
  BLOCKLIST: 'content_filter',
  PROHIBITED_CONTENT: 'content_filter',
  SPII: 'content_filter',
  IMAGE_SAFETY: 'content_filter',
}

/** Google's error statuses that describe a passing condition. */
const RETRYABLE_STATUSES = new Set(['RESOURCE_EXHAUSTED', 'UNAVAILABLE', 'INTERNAL', 'DEADLINE_EXCEEDED'])

/**
 * Decodes Gemini's `streamGenerateContent?alt=sse`: each event a `GenerateContentResponse` with
 * text parts, the last carrying `finishReason` and `usageMetadata`. There is no end marker: the
 * answer is complete when the body ends cleanly after a finish reason, and cut off otherwise.
 */
export function createGeminiDecoder(): UpstreamDecoder {
  let finishReason: FinishReason | undefined
  let usage: UsageEventData | undefined
  return createSseDecoder({
    onMessage(message, emit) {
      const chunk = parseJson<GeminiChunk>(message.data, emit)
      if (!chunk) return
      if (chunk.error) {
        return emit({
          type: 'error',
          code: 'upstream_error',
          message: String(chunk.error.message ?? 'The model provider reported an error.').slice(0, 500),
          retryable: RETRYABLE_STATUSES.has(chunk.error.status ?? ''),
        })
      }
      const candidate = chunk.candidates?.[0]
      // Thought summaries are not the answer.
      const text = candidate?.content?.parts?.map((part) => (part.thought ? '' : (part.text ?? ''))).join('')
      if (text) emit({ type: 'text', text })
      if (candidate?.finishReason) finishReason = FINISH_REASONS[candidate.finishReason] ?? 'unknown'
      if (chunk.usageMetadata) {
        const { promptTokenCount = 0, candidatesTokenCount = 0, totalTokenCount } = chunk.usageMetadata
        usage = {
          prompt_tokens: promptTokenCount,
          completion_tokens: candidatesTokenCount,
          total_tokens: totalTokenCount ?? promptTokenCount + candidatesTokenCount,
        }
      }
    },
    onEnd(emit) {
      if (!finishReason) return
      // Usage comes on every chunk, cumulative: the last one counts, once.
      if (usage) emit({ type: 'usage', usage })
      emit({ type: 'done', finishReason })
    },
  })
}
