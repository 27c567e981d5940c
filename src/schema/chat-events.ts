/**
 * The events of a `POST /api/chat` stream, shared by the server and its clients. Every stream
 * is `start`, any number of `delta`, `reasoning` and `tool_call`, at most one `usage`, then exactly one
 * of `done` or `error`.
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

/** The model's thinking, from reasoning models; arrives before and between `delta`s. */
export interface ReasoningEventData {
  text: string
}

/** A piece of a tool call: `id` and `name` come with its first piece, the arguments in pieces. */
export interface ToolCallEventData {
  index: number
  id?: string
  name?: string
  arguments_delta: string
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
  reasoning: ReasoningEventData
  tool_call: ToolCallEventData
  usage: UsageEventData
  done: DoneEventData
  error: ErrorEventData
}

export type ChatEventName = keyof ChatEventDataMap
