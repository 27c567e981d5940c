/**
 * The events of a `POST /api/chat` stream, shared by the server and its clients. Every stream
 * is `start`, any number of `delta`, `reasoning` and `tool_call` in the order the model produced
 * them, at most one `usage`, then exactly one of `done` or `error`.
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
  /** Everything the model generated, its reasoning included. */
  completion_tokens: number
  total_tokens: number
  /** The part of `completion_tokens` spent reasoning, where the provider reports it. */
  reasoning_tokens?: number
  /**
   * The part of `prompt_tokens` read from the provider's prompt cache, where it reports one
   * (OpenAI's `cached_tokens`, Anthropic's `cache_read_input_tokens`). `prompt_tokens` counts
   * every input token, cached or not, as OpenAI's does; Anthropic's `input_tokens` does not, so
   * its decoder adds the cached parts in and its encoder takes them out again.
   */
  cache_read_tokens?: number
  /** The part of `prompt_tokens` written to the provider's prompt cache (Anthropic's `cache_creation_input_tokens`). */
  cache_write_tokens?: number
}

/**
 * A piece of the model's thinking, apart from its answer. Anthropic seals each thinking block
 * with a `signature`, and may send a block encrypted whole (`redacted`); a client that keeps them
 * can send the thinking back in a later turn (a tool loop with thinking needs it). Either comes in
 * a piece of its own, with `text` empty: a signature ends its block, so thinking after it is a
 * new block.
 */
export interface ReasoningEventData {
  text: string
  signature?: string
  redacted?: string
}

/** What a reasoning piece may carry besides its text. */
export type ReasoningSeal = Omit<ReasoningEventData, 'text'>

/**
 * A piece of a tool call. Calls are numbered by `index` from 0; the first piece of each carries
 * its `id` and `name` (and usually an empty `arguments_delta`), later pieces only
 * `arguments_delta`. Joined, a call's `arguments_delta`s are its arguments as JSON text.
 */
/** One piece of a streamed tool call, as the pipeline hands it to an encoder; see `ToolCallEventData`. */
export interface ToolCallDelta {
  index: number
  id?: string
  name?: string
  argumentsDelta: string
}

export interface ToolCallEventData {
  index: number
  id?: string
  name?: string
  arguments_delta: string
}

/** Why the model stopped: normalised across providers; `unknown` when the upstream did not say. */
export type FinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls' | 'unknown'

export interface DoneEventData {
  finish_reason: FinishReason
  /** With `stop`: the stop sequence that ended the answer, where the provider says which. */
  stop_sequence?: string
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
