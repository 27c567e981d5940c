import type { AnswerSummary } from '../events/answer-summary'
import type { UpstreamEvent } from '../providers/types'

/**
 * Counts one upstream event into its answer's summary: what was streamed, when the first of it
 * came, the usage, and how the answer ended. Returns whether the event is terminal (`done` or
 * `error`), after which an answer has nothing more. The one account every way of sending an
 * answer keeps, whether it writes the events (`chat-event-stream.ts`) or relays the provider's
 * bytes (`relay-answer.ts`).
 */
export function tallyEvent(summary: AnswerSummary, event: UpstreamEvent, startedAt: number): boolean {
  switch (event.type) {
    case 'text':
      summary.firstTextMs ??= Date.now() - startedAt
      summary.textChars = (summary.textChars ?? 0) + event.text.length
      return false
    case 'reasoning':
      summary.reasoningChars = (summary.reasoningChars ?? 0) + event.text.length
      return false
    case 'tool_call':
      summary.firstTextMs ??= Date.now() - startedAt
      summary.toolCallChars = (summary.toolCallChars ?? 0) + (event.name?.length ?? 0) + event.argumentsDelta.length
      return false
    case 'usage':
      summary.usage = event.usage
      return false
    case 'keepalive':
      return false
    case 'done':
      summary.outcome = 'done'
      summary.finishReason = event.finishReason
      return true
    case 'error':
      summary.outcome = 'error'
      summary.errorCode = event.code
      return true
  }
}
