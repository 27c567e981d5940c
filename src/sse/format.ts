import type { ErrorEventData, FinishReason, StartEventData, UsageEventData } from '../schema/chat-events'
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

/**
 * The gateway's own events (`POST /api/chat`): `start`, `delta`, `reasoning`, `tool_call`,
 * `usage`, `done`, `error`, numbered.
 */
export function gatewayEventFormat({
  retryMs,
  firstEventId = 1,
}: {
  retryMs: number
  firstEventId?: number
}): StreamFormat {
  const events = new EventEncoder(firstEventId)
  return {
    start: (start) => encodeRetry(retryMs) + events.encode('start', start),
    text: (text) => events.encode('delta', { text }),
    reasoning: (text) => events.encode('reasoning', { text }),
    toolCall: ({ index, id, name, argumentsDelta }) =>
      events.encode('tool_call', { index, id, name, arguments_delta: argumentsDelta }),
    usage: (usage) => events.encode('usage', usage),
    done: (finishReason) => events.encode('done', { finish_reason: finishReason }),
    error: (error) => events.encode('error', error),
    heartbeat: () => HEARTBEAT,
  }
}
