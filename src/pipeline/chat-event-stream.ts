import type { AnswerSummary } from '../events/answer-summary'
import type { StartEventData } from '../events/chat-events'
import type { LiveEncoder } from '../events/encoders'
import { log } from '../log'
import type { UpstreamEvent, UpstreamStream } from '../providers/types'
import { tallyEvent } from './answer-tally'
import { upstreamReader } from './upstream-reader'
import { Watchdog } from './watchdog'

export interface ChatEventStreamOptions {
  start: StartEventData
  /** How the events are written: a wire format's live encoder, or the event log's records. */
  encoder: LiveEncoder
  /** A `: ping` comment goes out whenever nothing else has for this long. */
  heartbeatMs: number
  /** Longest silence from the upstream before the answer fails with `upstream_idle_timeout`. */
  idleTimeoutMs: number
  /** Longest the whole answer may take before it fails with `deadline_exceeded`. */
  deadlineMs: number
  /** Called once when the stream ends, however it ends. */
  onEnd?: (summary: AnswerSummary) => void
}

const utf8 = new TextEncoder()

/**
 * Turns an upstream's answer into our event stream: `start`, `delta`s (with `reasoning` and
 * `tool_call` pieces where the model sends them), `usage`, then exactly one `done` or `error`,
 * with heartbeats while nothing else flows. Reasoning, like every upstream byte, keeps the idle
 * timeout from firing: a model that thinks for minutes is not silent.
 *
 * The one guarantee that matters most: whatever happens (the upstream resets, stalls, sends
 * garbage or stops early, the deadline passes, the code throws), the client receives a terminal
 * event, so a cut-off answer can never pass for a finished one. That is why this is a pull-based
 * `ReadableStream` over the upstream's reader rather than `body.pipeThrough(transform)`: in a
 * pipe, an upstream error aborts the transform's writable side, which errors its readable side
 * before a terminal event could be written.
 *
 * Each upstream read becomes at most one chunk out, however many events it holds, so a burst
 * costs one write rather than one per token. The upstream is read only when the output queue has
 * room (one chunk), so a client that stops reading stops the upstream reads too: backpressure
 * holds end to end, except that an upstream that bursts is read in batches from then on, at the
 * network's pace (`upstream-reader.ts`).
 * Cancelling the returned stream (the client left) cancels the upstream body.
 *
 * Independent of HTTP and of any provider: it can run in a route, a Durable Object or a queue.
 */
export function chatEventStream(upstream: UpstreamStream, options: ChatEventStreamOptions): ReadableStream<Uint8Array> {
  const reader = upstreamReader(upstream)
  const encoder = options.encoder
  const startedAt = Date.now()
  const summary: AnswerSummary = { outcome: 'cancelled', durationMs: 0 }
  let controller!: ReadableStreamDefaultController<Uint8Array>
  let ended = false
  let heartbeat: Watchdog
  let idle: Watchdog
  let deadline: ReturnType<typeof setTimeout>

  function send(text: string): void {
    controller.enqueue(utf8.encode(text))
    heartbeat.touch()
  }

  /** Stops everything; the caller has already written the terminal event (or the client left). */
  function end(): void {
    ended = true
    heartbeat.stop()
    idle.stop()
    clearTimeout(deadline)
    reader.cancel().catch(() => {})
    summary.durationMs = Date.now() - startedAt
    try {
      options.onEnd?.(summary)
    } catch (error) {
      // A failing observer must not keep the stream from closing.
      log.error('onEnd failed', { error: String(error) })
    }
  }

  function fail(code: string, message: string, retryable: boolean): void {
    if (ended) return
    write([{ type: 'error', code, message, retryable }])
  }

  /**
   * Writes a batch of upstream events as one chunk, ending the stream at a terminal event.
   * Returns whether anything was written.
   */
  function write(batch: UpstreamEvent[]): boolean {
    let out = ''
    let terminal = false
    for (const event of batch) {
      terminal = tallyEvent(summary, event, startedAt)
      if (event.type === 'text') {
        out += encoder.text(event.text)
      } else if (event.type === 'reasoning') {
        out +=
          event.signature === undefined && event.redacted === undefined
            ? encoder.reasoning(event.text)
            : encoder.reasoning(event.text, { signature: event.signature, redacted: event.redacted })
      } else if (event.type === 'tool_call') {
        out += encoder.toolCall(event)
      } else if (event.type === 'keepalive') {
        out += encoder.heartbeat()
      } else if (event.type === 'usage') {
        out += encoder.usage(event.usage)
      } else if (event.type === 'done') {
        out += encoder.done(event.finishReason, event.stopSequence)
      } else {
        out += encoder.error({ code: event.code, message: event.message, retryable: event.retryable })
      }
      if (terminal) break
    }
    if (out) send(out)
    if (terminal) {
      end()
      controller.close()
    }
    return out !== ''
  }

  return new ReadableStream<Uint8Array>({
    start(streamController) {
      controller = streamController
      heartbeat = new Watchdog(options.heartbeatMs, () => send(encoder.heartbeat()))
      idle = new Watchdog(options.idleTimeoutMs, () =>
        fail('upstream_idle_timeout', 'The model provider went silent for too long.', true),
      )
      deadline = setTimeout(
        () => fail('deadline_exceeded', 'The answer took longer than the gateway allows.', false),
        options.deadlineMs,
      )
      send(encoder.start(options.start))
    },

    async pull() {
      try {
        // Read until this pull has given the client something: the stream does not call a pull
        // again by itself when the previous one enqueued nothing (a chunk with half an event).
        while (!ended) {
          let result: ReadableStreamReadResult<Uint8Array>
          try {
            result = await reader.read()
          } catch {
            return fail('upstream_connection_lost', 'The connection to the model provider broke off.', true)
          }
          if (ended) return
          idle.touch()
          if (result.done) {
            write(upstream.decoder.end())
            return fail(
              'upstream_truncated',
              'The model provider ended the stream before the answer was complete.',
              true,
            )
          }
          if (write(upstream.decoder.decode(result.value))) return
        }
      } catch (error) {
        log.error('stream pipeline failed', { error: String(error) })
        fail('internal_error', 'The gateway failed while streaming the answer.', true)
      }
    },

    cancel() {
      if (!ended) end()
    },
  })
}
