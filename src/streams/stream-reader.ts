import type { ReplayEncoder } from '../events/encoders'
import { isTerminal, type StoredEvent } from '../events/stored-event'
import { Watchdog } from '../pipeline/watchdog'
import type { EventLog } from './event-log'

export interface StreamReaderOptions {
  log: EventLog
  /** The last event this reader already has: it receives every event after it. */
  afterId: number
  /** The wire format this reader's client reads, from where it starts. */
  encoder: ReplayEncoder
  heartbeatMs: number
  /** Called once when the reader is gone: it read the terminal event, or its client left. */
  onClose(reader: StreamReader): void
}

const utf8 = new TextEncoder()
/** Events read from storage per pull while catching up. */
const REPLAY_PAGE = 256
/** Bytes queued for a reader before it stops taking live events and catches up from storage. */
const QUEUE_BYTES = 64 * 1024

/**
 * One connection reading a stream: it reads the events after `afterId` from the log, page by page
 * as its client takes them (those already stored, then those still in memory), then receives new
 * events live as the answer goes on.
 *
 * A reader is live only while it keeps up. A client that reads slower than the model writes
 * drops back to catching up from the log, so no reader can make the object buffer without bound,
 * and none ever slows the answer or the other readers. The log gives a catching-up reader exactly
 * what the object has released to live readers (its `visibleId`), and a live reader takes only the
 * event right after the last it has, so switching between the two never skips or repeats one.
 */
export class StreamReader {
  readonly body: ReadableStream<Uint8Array>
  #controller!: ReadableStreamDefaultController<Uint8Array>
  #delivered: number
  #live = false
  #closed = false
  #readToEnd = false
  readonly #heartbeat: Watchdog

  constructor(private readonly options: StreamReaderOptions) {
    this.#delivered = options.afterId
    // Before the body: workerd may pull as soon as `start` enqueues, and a reader of an ended
    // stream can then read to its end, and close, before this constructor returns.
    this.#heartbeat = new Watchdog(options.heartbeatMs, () => this.#send(options.encoder.heartbeat))
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller
          this.#send(options.encoder.preamble)
        },
        pull: () => this.#catchUp(),
        cancel: () => this.#close(),
      },
      { highWaterMark: QUEUE_BYTES, size: (chunk) => chunk.byteLength },
    )
  }

  /** Whether the reader is done: it read the terminal event, or its client left. */
  get closed(): boolean {
    return this.#closed
  }

  /** New events, in order: taken only while the reader is live, and only from right after its last. */
  deliver(events: StoredEvent[]): void {
    if (!this.#live || this.#closed) return
    const next = events.findIndex((event) => event.id > this.#delivered)
    if (next === -1) return
    // Not contiguous with what it has (it cannot be, but if it were): catch up from the log instead.
    if (events[next]!.id !== this.#delivered + 1) {
      this.#live = false
      return this.#catchUp()
    }
    this.#write(next === 0 ? events : events.slice(next))
    // Fallen behind: stop taking live events; the next pull reads on from storage.
    if (!this.#closed && this.#controller.desiredSize! <= 0) this.#live = false
  }

  /** Whether this reader was given the terminal event (its client may not have received all of it yet). */
  get readToEnd(): boolean {
    return this.#readToEnd
  }

  /** The stream is gone (deleted or interrupted without a terminal event for this reader). */
  end(): void {
    if (this.#closed) return
    this.#controller.close()
    this.#close()
  }

  #catchUp(): void {
    if (this.#closed || this.#live) return
    const events = this.options.log.after(this.#delivered, REPLAY_PAGE)
    if (events.length) return this.#write(events)
    // Caught up. An ended stream's terminal event was in the log, so it was written above.
    this.#live = true
  }

  #write(events: StoredEvent[]): void {
    this.#send(this.options.encoder.encode(events))
    const last = events.at(-1)!
    this.#delivered = last.id
    if (isTerminal(last.event)) {
      this.#readToEnd = true
      this.end()
    }
  }

  #send(text: string): void {
    this.#controller.enqueue(utf8.encode(text))
    this.#heartbeat.touch()
  }

  #close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#heartbeat.stop()
    this.options.onClose(this)
  }
}
