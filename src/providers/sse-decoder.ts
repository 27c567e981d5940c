import { createParser, type EventSourceMessage } from 'eventsource-parser'
import type { UpstreamDecoder, UpstreamEvent } from './types'

/**
 * Longest an upstream may go without completing an event. A real one is well under a kilobyte;
 * past this the upstream is broken or hostile, and buffering more would be unbounded.
 */
const MAX_PENDING_BYTES = 1024 * 1024

/** What a provider's decoder supplies: how its events map to ours, and how its streams end. */
export interface SseDecoding {
  /** Maps one upstream event; `emit` what it means. Called for nothing after a terminal event. */
  onMessage(message: EventSourceMessage, emit: (event: UpstreamEvent) => void): void
  /**
   * The body ended cleanly before a terminal event. Emit `done` if the provider's stream was
   * complete without an explicit end marker; if nothing terminal is emitted, the answer was cut
   * off and ends with `upstream_truncated`.
   */
  onEnd?(emit: (event: UpstreamEvent) => void): void
}

/**
 * The SSE plumbing every provider shares: UTF-8 decoding across chunk boundaries, event parsing
 * (`eventsource-parser`), a bound on a never-ending event, and nothing after a terminal event.
 */
export function createSseDecoder({ onMessage, onEnd }: SseDecoding): UpstreamDecoder {
  const utf8 = new TextDecoder()
  let batch: UpstreamEvent[] = []
  let finished = false
  let pendingBytes = 0

  const emit = (event: UpstreamEvent) => {
    if (finished) return
    batch.push(event)
    if (event.type === 'done' || event.type === 'error') finished = true
  }
  const parser = createParser({
    onComment: () => {
      pendingBytes = 0
    },
    onEvent: (message) => {
      pendingBytes = 0
      if (!finished) onMessage(message, emit)
    },
  })

  return {
    decode(chunk) {
      batch = []
      if (finished) return batch
      pendingBytes += chunk.byteLength
      if (pendingBytes > MAX_PENDING_BYTES) emit(malformed('an event larger than the gateway accepts'))
      else parser.feed(utf8.decode(chunk, { stream: true }))
      return batch
    },
    end() {
      batch = []
      if (finished) return batch
      // A final event missing only its blank line still counts: a cut-off JSON event fails to
      // parse, so nothing incomplete slips through.
      parser.feed(utf8.decode() + '\n\n')
      if (!finished) onEnd?.(emit)
      emit(truncated)
      return batch
    },
  }
}

/** Parses an event's JSON data, or emits `upstream_malformed` and returns undefined. */
export function parseJson<T>(data: string, emit: (event: UpstreamEvent) => void): T | undefined {
  try {
    return JSON.parse(data) as T
  } catch {
    emit(malformed('an event that is not JSON'))
    return undefined
  }
}

const truncated: UpstreamEvent = {
  type: 'error',
  code: 'upstream_truncated',
  message: 'The model provider ended the stream before the answer was complete.',
  retryable: true,
}

function malformed(what: string): UpstreamEvent {
  return { type: 'error', code: 'upstream_malformed', message: `The model provider sent ${what}.`, retryable: true }
}
