import type { ErrorEventData, FinishReason, StartEventData, UsageEventData } from '../schema/chat-events'
import { EventEncoder, HEARTBEAT, encodeRetry } from './encode'

/**
 * How a stream looks on the wire. The pipeline decides what happens (text, usage, the one
 * terminal event, heartbeats); a format only writes it, so one pipeline serves every surface.
 */
export interface StreamFormat {
  start(start: StartEventData): string
  text(text: string): string
  usage(usage: UsageEventData): string
  done(finishReason: FinishReason): string
  error(error: ErrorEventData): string
  heartbeat(): string
}

/** The gateway's own events (`POST /api/chat`): `start`, `delta`, `usage`, `done`, `error`, numbered. */
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
    usage: (usage) => events.encode('usage', usage),
    done: (finishReason) => events.encode('done', { finish_reason: finishReason }),
    error: (error) => events.encode('error', error),
    heartbeat: () => HEARTBEAT,
  }
}
