import type { FinishReason, UsageEventData } from './chat-events'

/** How an answer ended, for logs and usage accounting. Never holds message content. */
export interface AnswerSummary {
  outcome: 'done' | 'error' | 'cancelled'
  finishReason?: FinishReason
  errorCode?: string
  usage?: UsageEventData
  /** Characters of answer text sent: an estimate of its size when the upstream reports no usage. */
  textChars?: number
  /** Milliseconds from the stream's start to its first text or tool call, if any came. */
  firstTextMs?: number
  durationMs: number
}
