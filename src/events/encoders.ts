import type {
  ChatEventDataMap,
  ChatEventName,
  ErrorEventData,
  FinishReason,
  ReasoningSeal,
  StartEventData,
  ToolCallDelta,
  UsageEventData,
} from './chat-events'
import type { StoredEvent } from './stored-event'

/**
 * How an answer is written as the pipeline produces it, one call per event. The pipeline decides
 * what happens (text, usage, the one terminal event, heartbeats); an encoder only writes it, so
 * one pipeline serves every wire format, and the event log too.
 */
export interface LiveEncoder {
  start(start: StartEventData): string
  text(text: string): string
  /** `seal`: a thinking block's signature, or a redacted block, with `text` empty (see `ReasoningEventData`). */
  reasoning(text: string, seal?: ReasoningSeal): string
  toolCall(call: ToolCallDelta): string
  usage(usage: UsageEventData): string
  done(finishReason: FinishReason, stopSequence?: string): string
  error(error: ErrorEventData): string
  heartbeat(): string
}

/**
 * How a dialect's client is kept and told things in a stream of its provider's own bytes (a
 * relay, `pipeline/relay-answer.ts`), where the gateway writes nothing else.
 */
export interface RelayTerms {
  /** What keeps an idle connection alive in the dialect (a comment, Anthropic's `ping`). */
  heartbeat: string
  /** The dialect's error event: the end of an answer its provider did not finish. */
  error(error: ErrorEventData): string
}

/** How stored events are written for one reader, from wherever it starts. */
export interface ReplayEncoder {
  /** Sent once, before the first event (our `retry:` field, or what a format opens with). */
  preamble: string
  encode(events: StoredEvent[]): string
  /** What keeps an idle connection alive in this format. */
  heartbeat: string
}

/** Writes one of our events: how each encoder built on our events puts one on the wire or in a log. */
export type ChatEventWriter = <E extends ChatEventName>(event: E, data: ChatEventDataMap[E]) => string

/**
 * The pipeline's calls as our events (`start`, `delta`, `reasoning`, `tool_call`, `usage`,
 * `done`, `error`), each written by `write`: the one place that says which call is which event.
 */
export function chatEvents(write: ChatEventWriter, heartbeat: string): LiveEncoder {
  return {
    start: (start) => write('start', start),
    text: (text) => write('delta', { text }),
    reasoning: (text, seal) => write('reasoning', seal ? { text, ...seal } : { text }),
    toolCall: ({ index, id, name, argumentsDelta }) =>
      write('tool_call', { index, id, name, arguments_delta: argumentsDelta }),
    usage: (usage) => write('usage', usage),
    done: (finishReason, stopSequence) =>
      write(
        'done',
        stopSequence === undefined
          ? { finish_reason: finishReason }
          : { finish_reason: finishReason, stop_sequence: stopSequence },
      ),
    error: (error) => write('error', error),
    heartbeat: () => heartbeat,
  }
}
