import { midStreamError, type UpstreamErrorClass } from '../upstream-error'
import type { FinishReason, UsageEventData } from '../../events/chat-events'
import { createSseDecoder, parseJson } from '../sse-decoder'
import { toolCallPieces } from '../tool-calls'
import type { UpstreamDecoder } from '../types'

/** The parts of a `GenerateContentResponse` this decoder reads. */
interface GeminiChunk {
  candidates?: Array<{ content?: { parts?: GeminiPart[] }; finishReason?: string }>
  usageMetadata?: {
    promptTokenCount?: number
    candidatesTokenCount?: number
    /** Thinking, counted apart from the candidates. */
    thoughtsTokenCount?: number
    totalTokenCount?: number
  }
  error?: { code?: number; message?: string; status?: string }
}

interface GeminiPart {
  text?: string
  /** A thought summary: reasoning, not answer. */
  thought?: boolean
  /** A whole call in one part: Gemini does not stream a call's arguments. */
  functionCall?: { id?: string; name?: string; args?: Record<string, unknown> }
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

function errorClass(status: string | undefined): UpstreamErrorClass {
  if (status === 'INVALID_ARGUMENT' || status === 'FAILED_PRECONDITION') return 'invalid_request'
  return RETRYABLE_STATUSES.has(status ?? '') ? 'passing' : 'other'
}

/**
 * Decodes Gemini's `streamGenerateContent?alt=sse`: each event a `GenerateContentResponse` with
 * parts (text; thought summaries, as reasoning; function calls, each whole, as a tool call with
 * its arguments in one piece), the last carrying `finishReason` and `usageMetadata`. There is no
 * end marker: the answer is complete when the body ends cleanly after a finish reason, and cut
 * off otherwise.
 */
export function createGeminiDecoder(): UpstreamDecoder {
  let finishReason: FinishReason | undefined
  let usage: UsageEventData | undefined
  const toolCalls = toolCallPieces()
  let calls = 0
  return createSseDecoder({
    onMessage(message, emit) {
      const chunk = parseJson<GeminiChunk>(message.data, emit)
      if (!chunk) return
      if (chunk.error) {
        return emit(
          midStreamError(chunk.error.message, errorClass(chunk.error.status), { upstreamType: chunk.error.status }),
        )
      }
      const candidate = chunk.candidates?.[0]
      for (const part of candidate?.content?.parts ?? []) {
        if (part.functionCall) {
          const { id, name, args } = part.functionCall
          emit(toolCalls.piece(calls++, id, name, JSON.stringify(args ?? {})))
        } else if (part.text) {
          emit(part.thought ? { type: 'reasoning', text: part.text } : { type: 'text', text: part.text })
        }
      }
      if (candidate?.finishReason) finishReason = FINISH_REASONS[candidate.finishReason] ?? 'unknown'
      if (chunk.usageMetadata) {
        const {
          promptTokenCount = 0,
          candidatesTokenCount = 0,
          thoughtsTokenCount,
          totalTokenCount,
        } = chunk.usageMetadata
        // Like OpenAI's, our completion tokens include the reasoning ones.
        const completion = candidatesTokenCount + (thoughtsTokenCount ?? 0)
        usage = {
          prompt_tokens: promptTokenCount,
          completion_tokens: completion,
          total_tokens: totalTokenCount ?? promptTokenCount + completion,
          ...(thoughtsTokenCount !== undefined && { reasoning_tokens: thoughtsTokenCount }),
        }
      }
    },
    onEnd(emit) {
      if (!finishReason) return
      // Usage comes on every chunk, cumulative: the last one counts, once.
      if (usage) emit({ type: 'usage', usage })
      emit({ type: 'done', finishReason: toolCalls.finishReason(finishReason) })
    },
  })
}
