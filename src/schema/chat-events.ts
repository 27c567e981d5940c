/**
 * The events of a `POST /api/chat` stream, shared by the server and its clients. Every stream
 * is `start`, any number of `delta`, at most one `usage`, then exactly one of `done` or `error`.
 */

export interface StartEventData {
  id: string
  /** The model the request asked for. */
  model: string
  /** The model that is answering: `model` itself, or one of its fallbacks. */
  upstream: string
  created: number
}

export interface DeltaEventData {
  text: string
}

export interface UsageEventData {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
}

/** Why the model stopped: normalised across providers; `unknown` when the upstream did not say. */
export type FinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls' | 'unknown'

export interface DoneEventData {
  finish_reason: FinishReason
}

export interface ErrorEventData {
  code: string
  message: string
  retryable: boolean
}

export interface ChatEventDataMap {
  start: StartEventData
  delta: DeltaEventData
  usage: UsageEventData
  done: DoneEventData
  error: ErrorEventData
}

export type ChatEventName = keyof ChatEventDataMap
