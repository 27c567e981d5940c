import type { AnswerSummary } from '../events/answer-summary'
import type { ErrorEventData } from '../events/chat-events'
import type { RelayTerms } from '../events/encoders'
import { log } from '../log'
import type { UpstreamEvent, UpstreamStream } from '../providers/types'
import { tallyEvent } from './answer-tally'
import { Watchdog } from './watchdog'

export interface RelayOptions {
  terms: RelayTerms
  /** A heartbeat goes out whenever the upstream has been silent this long. */
  heartbeatMs: number
  /** Longest silence from the upstream before the answer fails with `upstream_idle_timeout`. */
  idleTimeoutMs: number
  /** Longest the whole answer may take before it fails with `deadline_exceeded`. */
  deadlineMs: number
  /** Aborts when the client has gone (the request's signal); a failed write says so too. */
  signal: AbortSignal
  /** Keeps the relay's own work going while the response streams: the route's `waitUntil`. */
  waitUntil: (promise: Promise<unknown>) => void
  /** Called once when the answer ends, however it ends. */
  onEnd?: (summary: AnswerSummary) => void
}

/** How long the ledger's reader waits between reads, so that each read takes many chunks at once. */
const BATCH_MS = 50
/**
 * The most one read takes: a large buffer while the answer flows (fewer reads), a small one once
 * a read came back short (a pending read holds its buffer, so an idle stream holds little).
 */
const BATCH_BYTES = { flowing: 64 * 1024, idle: 4 * 1024 }

const utf8 = new TextEncoder()

/**
 * A same-family answer at the cost of the runtime's own pipe (issue 30): the provider's bytes,
 * already in the client's dialect (`UpstreamStream.dialect`), go to the client through a native
 * `pipeTo`, so no JavaScript runs per chunk, while a `tee()` of them is read in batches (every
 * `BATCH_MS`, or at once while reads come back full) by the adapter's decoder, which is how the gateway
 * still learns everything it owes: usage, how the answer ended, what was streamed.
 *
 * The promises `chatEventStream` keeps, kept here too:
 * - **One terminal event.** When the provider's stream ends without its end-of-answer marker, or
 *   breaks, goes silent past the idle timeout or outlives the deadline, the client gets the
 *   dialect's error event after a blank line (which ends any half-sent event), never a clean end.
 *   An answer whose provider sent an error of its own gets the gateway's after it: the client
 *   raises on the first.
 * - **The upstream cancelled when the client leaves**: the pipe fails, and the ledger's branch is
 *   cancelled, which cancels the upstream's body (a `tee()` cancels its source when both go).
 * - **Heartbeats through silence.** A native pipe cannot be paused to slip a heartbeat in, and
 *   stopping it (workerd errors the pipe's source when its signal aborts) loses nothing only
 *   when everything sent so far has been written. So at the first silence of `heartbeatMs` (the
 *   ledger has read everything the provider sent, long enough ago for the pipe to have written it
 *   too), the pipe is stopped and the relay goes on in JavaScript: the ledger's reads are written
 *   to the client as they come, with heartbeats between. A silence in the middle of an event (the
 *   provider's bytes so far do not end with a blank line) gets none: it would split that event.
 *   (A client that leaves during such a silence is noticed at the idle timeout: only a failed
 *   write tells a Worker its client has gone.) Only an answer that falls silent pays per chunk,
 *   and only from then on. (A client that had stopped reading for as long, while the upstream
 *   was silent, could lose what was still queued for it; its answer would then end without the
 *   provider's marker in the bytes the client parses, so it could not pass for whole.)
 * - **Usage and budgets exact**: every byte is decoded, and the summary is the one
 *   `chatEventStream` keeps (`tallyEvent`). A branch the client reads slowly buffers what the
 *   ledger has already read (the provider is read at the ledger's pace, not the client's).
 */
export function relayAnswer(upstream: UpstreamStream, options: RelayOptions): ReadableStream<Uint8Array> {
  const { readable, writable } = new IdentityTransformStream()
  const { head, rest } = upstream.raw!()
  const [toClient, toLedger] = rest.tee()
  options.waitUntil(
    relay(upstream, head, toClient, toLedger, writable, options).catch((error: unknown) =>
      log.error('relay failed', { error: String(error) }),
    ),
  )
  return readable
}

async function relay(
  upstream: UpstreamStream,
  head: Uint8Array,
  toClient: ReadableStream<Uint8Array>,
  toLedger: ReadableStream<Uint8Array>,
  writable: WritableStream<Uint8Array>,
  { terms, heartbeatMs, idleTimeoutMs, deadlineMs, signal, onEnd }: RelayOptions,
): Promise<void> {
  const startedAt = Date.now()
  const summary: AnswerSummary = { outcome: 'cancelled', durationMs: 0 }
  const ledger = batchReader(toLedger)
  let writer: WritableStreamDefaultWriter<Uint8Array> | undefined = writable.getWriter()
  /** A terminal event has been decoded; nothing after it counts. */
  let ended = false
  /** Why the answer fails, when the gateway has to say so itself. */
  let failure: ErrorEventData | undefined
  /** The error the decoder ended the answer with (the provider's own, or a truncation). */
  let decoded: ErrorEventData | undefined

  // What wakes the loop below besides a read: a timer, or the pipe stopping by itself.
  let nudge = () => {}
  const wakes = new Set<'beat' | 'idle' | 'deadline' | 'pipe'>()
  const wake = (why: 'beat' | 'idle' | 'deadline' | 'pipe') => {
    wakes.add(why)
    nudge()
  }
  const beat = new Watchdog(heartbeatMs, () => wake('beat'))
  const idle = new Watchdog(idleTimeoutMs, () => wake('idle'))
  const deadline = setTimeout(() => wake('deadline'), deadlineMs)

  const account = (events: UpstreamEvent[]) => {
    for (const event of events) {
      if (ended) return
      ended = tallyEvent(summary, event, startedAt)
      if (event.type === 'error') decoded = { code: event.code, message: event.message, retryable: event.retryable }
    }
  }
  const fail = (code: string, message: string, retryable: boolean) => {
    failure ??= { code, message, retryable }
  }

  // Where the provider's bytes stop: a heartbeat may go out only after a whole event.
  const ends = new EventEnds()

  let stopPipe: AbortController | undefined
  let piping: Promise<'closed' | 'failed'> | undefined
  try {
    account(upstream.decoder.decode(head))
    ends.see(head)
    await writer.write(head)
    writer.releaseLock()
    writer = undefined
    stopPipe = new AbortController()
    const stop = stopPipe.signal
    piping = toClient.pipeTo(writable, { preventClose: true, preventAbort: true, signal: stop }).then(
      () => 'closed' as const,
      () => {
        // Unless the relay stopped it itself (`takeOver`).
        if (!stop.aborted) wake('pipe')
        return 'failed' as const
      },
    )

    /** Stops the pipe and takes the writer: from here on, the relay writes what the ledger reads. */
    const takeOver = async () => {
      if (writer) return writer
      stopPipe!.abort()
      await piping
      writer = writable.getWriter()
      return writer
    }

    let pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined
    for (;;) {
      // Batches form while the pipe carries the bytes; a read that filled its buffer left more
      // waiting, so the next goes at once (the copy must keep up with a burst, or the answer's end
      // would wait for it).
      if (!writer && !wakes.size && !ledger.flowing) await nap(BATCH_MS)
      if (wakes.delete('pipe')) {
        // The pipe failed before its source ended: the client left (nothing can be written), or
        // the upstream broke (the ledger's read fails next). A blank line, which ends any half-sent
        // event, tells them apart; should the upstream go on, the relay writes the rest itself.
        writer = await takeOver()
        await writer.write(utf8.encode('\n\n'))
      }
      if (wakes.delete('deadline')) {
        fail('deadline_exceeded', 'The answer took longer than the gateway allows.', false)
        break
      }
      if (wakes.delete('idle')) {
        fail('upstream_idle_timeout', 'The model provider went silent for too long.', true)
        break
      }
      // A silence in the middle of an event (a network stalled between two packets) gets no
      // heartbeat: it would land inside that event. The idle timeout still bounds it.
      if (wakes.delete('beat') && ends.atEventEnd) await (await takeOver()).write(utf8.encode(terms.heartbeat))

      pending ??= ledger.read()
      const woken = new Promise<'woken'>((resolve) => (nudge = () => resolve('woken')))
      let result: ReadableStreamReadResult<Uint8Array> | 'woken'
      try {
        result = await Promise.race([pending, woken])
      } catch {
        fail('upstream_connection_lost', 'The connection to the model provider broke off.', true)
        break
      }
      if (result === 'woken') continue
      pending = undefined
      beat.touch()
      idle.touch()
      if (result.done) {
        account(upstream.decoder.end())
        break
      }
      account(upstream.decoder.decode(result.value!))
      ends.see(result.value!)
      if (writer) await writer.write(result.value!)
    }
    // The pipe settles by itself only when the provider's body has ended (the ledger read it to
    // its end): after a timeout or a break it is still going, and is stopped (`takeOver`).
    if (!writer && !failure && (await piping) === 'closed' && summary.outcome === 'done') {
      // The provider's own end, relayed whole: the answer is complete.
      writer = writable.getWriter()
    } else {
      writer = await takeOver()
      if (failure) account([{ type: 'error', ...failure }])
      const error = failure ?? decoded
      if (error) await writer.write(utf8.encode(`\n\n${terms.error(error)}`))
    }
    await writer.close()
  } catch {
    // A write failed: the client has gone. `summary.outcome` stays what the account made it,
    // `cancelled` unless the answer had already ended.
    if (!ended) summary.outcome = 'cancelled'
    await (writer ?? writable).abort().catch(() => {})
  } finally {
    beat.stop()
    idle.stop()
    clearTimeout(deadline)
    stopPipe?.abort()
    ledger.cancel().catch(() => {})
    if (signal.aborted && !ended) summary.outcome = 'cancelled'
    summary.durationMs = Date.now() - startedAt
    try {
      onEnd?.(summary)
    } catch (error) {
      log.error('onEnd failed', { error: String(error) })
    }
  }
}

/**
 * The last few bytes of an event stream, enough to tell whether it stops where an event ends: at
 * a blank line (two line ends: LF LF, CR CR, or with CR LF), or before its first byte.
 */
class EventEnds {
  #tail = ''

  see(chunk: Uint8Array): void {
    if (!chunk.byteLength) return
    const last = chunk.subarray(Math.max(0, chunk.byteLength - 3))
    this.#tail = (this.#tail + String.fromCharCode(...last)).slice(-3)
  }

  get atEventEnd(): boolean {
    return this.#tail === '' || /(\n\n|\r\r|\n\r\n)$/.test(this.#tail)
  }
}

/**
 * Reads a stream many chunks at a time where the runtime can (a byte stream, such as a fetch's
 * body: workerd's `readAtLeast` fills one buffer with everything that has arrived), else one
 * chunk a read.
 */
function batchReader(stream: ReadableStream<Uint8Array>) {
  try {
    const reader = stream.getReader({ mode: 'byob' })
    return {
      /** The last read filled its buffer: more had come than it held. */
      flowing: false,
      async read() {
        const size = this.flowing ? BATCH_BYTES.flowing : BATCH_BYTES.idle
        const result = await reader.readAtLeast(1, new Uint8Array(size))
        this.flowing = result.value?.byteLength === size
        return result
      },
      cancel: () => reader.cancel(),
    }
  } catch {
    // Not a byte stream (a body built in JavaScript): one chunk a read.
    const reader = stream.getReader()
    return { flowing: false, read: () => reader.read(), cancel: () => reader.cancel() }
  }
}

function nap(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
