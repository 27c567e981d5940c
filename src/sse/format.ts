import type {
  ChatEventDataMap,
  ChatEventName,
  ErrorEventData,
  FinishReason,
  StartEventData,
  UsageEventData,
} from '../schema/chat-events'
import type { ToolCallDelta } from '../providers/types'
import { EventEncoder, HEARTBEAT, encodeRetry } from './encode'

/**
 * How a stream looks on the wire. The pipeline decides what happens (text, usage, the one
 * terminal event, heartbeats); a format only writes it, so one pipeline serves every surface.
 */
export interface StreamFormat {
  start(start: StartEventData): string
  text(text: string): string
  reasoning(text: string): string
  toolCall(call: ToolCallDelta): string
  usage(usage: UsageEventData): string
  done(finishReason: FinishReason): string
  error(error: ErrorEventData): string
  heartbeat(): string
}

/** Writes one of our events: how each surface built on our events puts one on the wire or in a log. */
export type ChatEventWriter = <E extends ChatEventName>(event: E, data: ChatEventDataMap[E]) => string

/**
 * The pipeline's calls as our events (`start`, `delta`, `reasoning`, `tool_call`, `usage`,
 * `done`, `error`), each written by `write`: the one place that says which call is which event.
 */
export function chatEvents(write: ChatEventWriter, heartbeat: string): StreamFormat {
  return {
    start: (start) => write('start', start),
    text: (text) => write('delta', { text }),
    reasoning: (text) => write('reasoning', { text }),
    toolCall: ({ index, id, name, argumentsDelta }) =>
      write('tool_call', { index, id, name, arguments_delta: argumentsDelta }),
    usage: (usage) => write('usage', usage),
    done: (finishReason) => write('done', { finish_reason: finishReason }),
    error: (error) => write('error', error),
    heartbeat: () => heartbeat,
  }
}

/** The gateway's own events on the wire (`POST /api/chat`), numbered, after a `retry:` hint. */
export function gatewayEventFormat({
  retryMs,
  firstEventId = 1,
}: {
  retryMs: number
  firstEventId?: number
}): StreamFormat {
  const events = new EventEncoder(firstEventId)
  const format = chatEvents((event, data) => events.encode(event, data), HEARTBEAT)
  return { ...format, start: (start) => encodeRetry(retryMs) + format.start(start) }
}
