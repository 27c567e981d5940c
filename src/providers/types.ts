import type { FinishReason, ReasoningSeal, ToolCallDelta, UsageEventData } from '../events/chat-events'
import type { Dialect } from '../events/dialect'
import type { UpstreamRequest } from '../request/native-request'

export type { ToolCallDelta }

/**
 * What an adapter makes of its provider's wire format: the one vocabulary the pipeline knows.
 * `done` and `error` are terminal; the decoder emits nothing after either.
 */
export type UpstreamEvent =
  | { type: 'text'; text: string }
  /** The model's thinking, streamed apart from its answer (before it, or between its parts). */
  | ({ type: 'reasoning'; text: string } & ReasoningSeal)
  /**
   * A piece of a tool call. Calls are numbered by `index` from 0 in the order they start; the
   * first piece of each call carries its `id` and `name`, the rest only more of its arguments
   * (JSON text, which is whole only once the call's last piece has come).
   */
  | ({ type: 'tool_call' } & ToolCallDelta)
  | { type: 'usage'; usage: UsageEventData }
  /** `stopSequence`: which of the request's stop sequences ended the answer, where the provider says. */
  | { type: 'done'; finishReason: FinishReason; stopSequence?: string }
  | { type: 'error'; code: string; message: string; retryable: boolean }
  /** The upstream says it is still there (Anthropic's `ping`): passed on as our heartbeat. */
  | { type: 'keepalive' }

/**
 * Turns one upstream body, chunk by chunk, into events. Synchronous on purpose: a chunk holding
 * many events becomes one batch, so the pipeline writes them to the client in one write.
 */
export interface UpstreamDecoder {
  /** The events completed by this chunk (bytes may split anywhere, even inside a character). */
  decode(chunk: Uint8Array): UpstreamEvent[]
  /**
   * The body has ended cleanly. Returns the remaining events; when the provider's end-of-answer
   * marker never came, the last of them is an `upstream_truncated` error, never `done`.
   */
  end(): UpstreamEvent[]
}

/** An upstream that has accepted the request and is streaming its answer. */
export interface UpstreamStream {
  body: ReadableStream<Uint8Array>
  /**
   * Bytes of the answer already read from `body` (`awaitFirstEvent`): they come before whatever
   * `body` still holds, so a reader takes them first (`pipeline/upstream-reader.ts`) and decodes
   * them with `decoder` like any chunk.
   */
  head?: Uint8Array
  decoder: UpstreamDecoder
  /**
   * The dialect `body` is written in when it is the provider's answer to the caller's own request
   * (a pass-through, `request.native`) and the runtime can relay it (`http.ts`, `cameFromNetwork`):
   * a client of that dialect can read its bytes as they are.
   */
  dialect?: Dialect
  /**
   * The provider's bytes for a relay (`pipeline/relay-answer.ts`): `head`, already read (the
   * decoder answers that very chunk with the events decoded from it), then `rest`, the upstream's
   * own body, which the runtime can pipe without JavaScript touching each chunk. Taking them is
   * instead of reading `body`, never besides it. Only where the upstream's body is still whole.
   */
  raw?: () => { head: Uint8Array; rest: ReadableStream<Uint8Array> }
}

export interface OpenUpstreamOptions {
  /** Aborts the upstream request: the client left, or a timeout fired. */
  signal: AbortSignal
}

/**
 * One provider family. `open` resolves once the upstream has answered with a streaming success,
 * and throws a `GatewayError` (with the status the client should see) when it refuses.
 */
export interface ProviderAdapter {
  /** `request.native`: the caller's own body, sent as it is by an adapter that speaks its dialect. */
  open(request: UpstreamRequest, options: OpenUpstreamOptions): Promise<UpstreamStream>
  /**
   * The request's input tokens as the provider counts them, for providers that count without
   * answering (Anthropic's `count_tokens`); absent where the gateway can only estimate.
   */
  countTokens?(request: UpstreamRequest, options: OpenUpstreamOptions): Promise<number>
  /**
   * The provider's compaction of a conversation (OpenAI's `POST /responses/compact`), its JSON as
   * the provider returned it, for providers that offer it to a caller of their own API (the
   * caller's body is `request.native`); absent elsewhere.
   */
  compact?(request: UpstreamRequest, options: OpenUpstreamOptions): Promise<unknown>
}
