import type { FinishReason, UsageEventData } from './chat-events'

/**
 * How an answer ended, for logs and usage accounting. Never holds message content. When the
 * upstream reports no usage (a stopped, cut or failed answer), everything streamed (text,
 * reasoning, tool calls) is what its output is charged by.
 */
export interface AnswerSummary {
  outcome: 'done' | 'error' | 'cancelled'
  finishReason?: FinishReason
  errorCode?: string
  usage?: UsageEventData
  /** Characters of answer text sent. */
  textChars?: number
  /** Characters of the model's reasoning sent. */
  reasoningChars?: number
  /** Characters of tool calls sent: their names and arguments. */
  toolCallChars?: number
  /** Milliseconds from the stream's start to its first text or tool call, if any came. */
  firstTextMs?: number
  durationMs: number
}

/** Characters of everything an answer streamed: what it is charged by without the upstream's usage. */
export function streamedChars(summary: AnswerSummary): number {
  return (summary.textChars ?? 0) + (summary.reasoningChars ?? 0) + (summary.toolCallChars ?? 0)
}

/**
 * What the response cache did for an answer (docs/cache.md): served it from a complete stored
 * answer (`HIT`), had a twin still being answered stream it live (`JOINED`), asked the upstream
 * and kept the answer for later (`MISS`), or was told by the request to stay out (`BYPASS`).
 */
export type CacheStatus = 'HIT' | 'MISS' | 'BYPASS' | 'JOINED'
