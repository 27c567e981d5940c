import type { FinishReason } from '../events/chat-events'
import type { UpstreamEvent } from './types'

/**
 * Shapes a provider's tool calls the way OpenAI streams them, whatever the provider sent: calls
 * numbered from 0, `id` and `name` on each call's first piece only, and an `id` even where the
 * provider gives none (Gemini, some local servers), since clients answer a call by its id.
 */
export function toolCallPieces() {
  const started: boolean[] = []
  let count = 0
  return {
    /** Whether the call at `index` has had its first piece. */
    started(index: number): boolean {
      return started[index] === true
    },
    piece(index: number, id: string | undefined, name: string | undefined, argumentsDelta: string): UpstreamEvent {
      if (started[index]) return { type: 'tool_call', index, argumentsDelta }
      started[index] = true
      count++
      return { type: 'tool_call', index, id: id || newToolCallId(), name, argumentsDelta }
    },
    /**
     * A model that called tools has stopped to wait for their results, whatever reason its
     * provider gave (Gemini says `STOP`, and so does OpenAI when `tool_choice` named the function).
     */
    finishReason(reason: FinishReason): FinishReason {
      return count > 0 && (reason === 'stop' || reason === 'unknown') ? 'tool_calls' : reason
    },
  }
}

function newToolCallId(): string {
  return `call_${crypto.randomUUID().replaceAll('-', '').slice(0, 24)}`
}
