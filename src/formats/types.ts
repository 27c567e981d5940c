import type { StartEventData } from '../events/chat-events'
import type { Dialect } from '../events/dialect'
import type { LiveEncoder, RelayTerms, ReplayEncoder } from '../events/encoders'

/** What every encoder is given, whatever its format. */
export interface CommonOptions {
  /** The `retry:` hint for formats that carry one. */
  retryMs: number
  /**
   * The answer's `start`, for a reader that begins after it: a format whose messages open with
   * it (the UI message stream's `start`, OpenAI's chunk id and model) still has it to hand.
   */
  resumedAfter?: StartEventData
}

/**
 * One wire format: how an answer looks to one kind of client. Each is written both ways, so any
 * surface can stream straight from the pipeline or replay the stored log, and the two agree:
 * - `live`: the pipeline's calls, as they happen, to bytes;
 * - `replay`: stored events (from the answer's Durable Object) to the same bytes.
 * `Options` are what a surface's request chooses (OpenAI's `include_usage`, say): plain data, so
 * a route can hand them to the Durable Object that replays the answer.
 */
export interface WireFormat<Options extends object = object> {
  /** The response headers a stream in this format goes out with. */
  headers: Readonly<Record<string, string>>
  live(options: Options & CommonOptions): LiveEncoder
  replay(options: Options & CommonOptions): ReplayEncoder
  /**
   * For a dialect's own format: the dialect, and how a stream of its provider's bytes is kept
   * alive and ended (`pipeline/relay-answer.ts`), when a client with these options can be given
   * the provider's bytes as they are; undefined when it cannot.
   */
  relay?(options: Options): (RelayTerms & { dialect: Dialect }) | undefined
}
