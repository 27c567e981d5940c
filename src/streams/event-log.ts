import type { Lease } from '../access/leases'
import type { AnswerSummary } from '../events/answer-summary'
import type { ReasoningEventData, ToolCallEventData } from '../events/chat-events'
import { isTerminal, type EventRecord, type StoredEvent } from '../events/stored-event'
import { EventChunks } from './event-chunks'

/** What the log knows about its stream besides the events. */
export interface StreamMeta {
  state: 'running' | 'ended'
  model: string
  upstream: string
  createdAt: number
  /** When the terminal event was stored. */
  endedAt?: number
  /** How long the stream is kept after its end. */
  retentionMs: number
  /** Cancel a running answer nobody has read for this long; null: never. */
  abandonMs: number | null
  /** The most event data the stream may store; past it, a terminal error. */
  maxBytes: number
  /** The caller's admission, settled when the answer ends, by whichever instance ends it. */
  lease: Lease
  /** The route that created the stream and the stream's id, for the ledger's record of an answer a restart cut. */
  path?: string
  streamId?: string
  /** Who may read, stop or delete it (see `StreamSettings.owner`); unset: whoever holds the id. */
  owner?: string
  /** Some reader has been given the terminal event, whatever its format: someone has the answer whole. */
  endRead?: boolean
  /** The ids reserved before the first chunk is written (see `EventLog`). */
  reserved?: number
  /** The terminal event the stream ended with: only an answer that ended `done` is served from a cache. */
  endedWith?: 'done' | 'error'
  /** How the answer ended, as its usage record has it: what a cache hit on it saved. */
  summary?: AnswerSummary
}

/**
 * How many ids past the newest event each write reserves. Events past the durable mark wait for
 * a write (and its confirmation) before any reader gets them, so this is how far a burst runs
 * ahead of storage between two such waits. Ids are free: after a restart, the ones never used
 * are simply skipped.
 */
const RESERVE = 1024
/** Event data kept in memory before it is written, whatever the flush window says. */
const FLUSH_BYTES = 32 * 1024

/**
 * A stream's events, numbered from 1: in storage many to a row (`event-chunks.ts`), in memory
 * until they are written and durable, and given to readers as soon as that is safe, which is
 * before they are durable.
 *
 * What a restart can cost, and why no reader is ever told anything false:
 * - Events are written in chunks (`flush`), each without holding back what the object sends, so
 *   readers get an event the moment it is made, not after its write. A restart loses what was
 *   not yet durable: at most a flush window of events.
 * - Every write also persists a reserved id mark ahead of the newest event, and no reader is
 *   given an event whose id is past the mark known durable (`visibleId`). After a restart the
 *   next id is past the mark (`lastId` starts there), so `interrupted` takes an id past anything
 *   any reader could have seen, and no id is ever used for two different events.
 * - A terminal event is given to readers only once it is durable: a reader that has `done` can
 *   never later be told `interrupted`.
 *
 * Metadata (`meta`) stays in a SQL table, written as ordinary confirmed writes: it changes when
 * the stream starts and ends, never per event.
 */
export class EventLog {
  readonly #chunks: EventChunks
  #meta: StreamMeta | undefined
  /** The newest id used (after a restart: the reserved mark, so that none is used twice). */
  #lastId = 0
  /** Events made but not yet durable, oldest first: the unwritten tail and the unconfirmed. */
  #memory: StoredEvent[] = []
  /** Of `#memory`, how many are written. */
  #written = 0
  #tailBytes = 0
  /** Ids up to here are reserved durably: readers may have any event up to it. */
  #reservedDurable = 0
  /** The highest mark written, durable or not. */
  #reservedWritten = 0
  /** Events up to here are durable. */
  #durableThrough = 0
  #terminalId: number | undefined
  /** Rows this instance has written, as Cloudflare bills them (a chunk is one key: one row). */
  rowsWritten = 0

  /**
   * @param onVisible Called when more events may be given to readers (`visibleId` moved on
   *   because a write became durable), before they are dropped from memory.
   */
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly onVisible: () => void = () => {},
  ) {
    this.#chunks = new EventChunks(storage)
    const sql = storage.sql
    const exists = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'stream'").toArray().length
    if (!exists) return
    const row = sql.exec<{ meta: string }>('SELECT meta FROM stream').toArray()[0]
    this.#meta = row && (JSON.parse(row.meta) as StreamMeta)
    this.#chunks.adoptLegacyRows()
    // Whatever this instance finds stored survived: it is durable.
    const last = this.#chunks.last()
    this.#durableThrough = last.lastId
    if (last.lastEvent && isTerminal(last.lastEvent.event)) {
      this.#terminalId = this.#lastId = last.lastId
    } else {
      // Cut off mid-answer: every id up to the mark may have been given to a reader.
      this.#lastId = Math.max(last.lastId, last.reserved, this.#meta?.reserved ?? 0)
    }
    this.#reservedDurable = this.#reservedWritten = this.#lastId
  }

  /** Undefined for an object that holds no stream (never created, or deleted after retention). */
  get meta(): StreamMeta | undefined {
    return this.#meta
  }

  /** The id of the newest event; 0 when there is none. */
  get lastId(): number {
    return this.#lastId
  }

  /** The newest id a reader may be given now. */
  get visibleId(): number {
    const visible = Math.min(this.#lastId, this.#reservedDurable)
    const terminal = this.#terminalId
    return terminal !== undefined && terminal > this.#durableThrough ? Math.min(visible, terminal - 1) : visible
  }

  /** Whether the unwritten events should be written now rather than at the end of the window. */
  get mustFlush(): boolean {
    return this.#tailBytes >= FLUSH_BYTES || this.#lastId > this.#reservedWritten || this.#terminalId !== undefined
  }

  /** Whether some event is waiting for its write. */
  get unwritten(): boolean {
    return this.#written < this.#memory.length
  }

  /** Nothing is written until `create`: probing random ids leaves no storage behind. */
  create(meta: StreamMeta): void {
    this.rowsWritten += this.storage.sql.exec(
      'CREATE TABLE IF NOT EXISTS stream (only INTEGER PRIMARY KEY CHECK (only = 1), meta TEXT NOT NULL)',
    ).rowsWritten
    this.#lastId = 0
    this.update({ ...meta, reserved: RESERVE })
    this.#reservedWritten = RESERVE
    void this.#whenDurable(() => (this.#reservedDurable = Math.max(this.#reservedDurable, RESERVE)))
  }

  update(meta: StreamMeta): void {
    this.#meta = meta
    this.rowsWritten += this.storage.sql.exec(
      'INSERT OR REPLACE INTO stream (only, meta) VALUES (1, ?)',
      JSON.stringify(meta),
    ).rowsWritten
  }

  /**
   * Adds events in order, numbering them on from the last. They are written at the next `flush`,
   * and readers get them once `visibleId` reaches them (at once, unless the burst has run past the
   * reserved ids or the event is terminal).
   */
  append(records: EventRecord[]): StoredEvent[] {
    const stored = records.map(({ event, data }) => ({ id: ++this.#lastId, event, data }))
    for (const event of stored) {
      this.#tailBytes += event.data.length
      if (isTerminal(event.event)) this.#terminalId = event.id
    }
    this.#memory.push(...stored)
    return stored
  }

  /**
   * Writes the unwritten events as one chunk (one row), with a reserved mark past them; resolves
   * once that write is durable. Nothing to write: resolves at once.
   */
  flush(): Promise<void> {
    const tail = this.#memory.slice(this.#written)
    if (!tail.length) return Promise.resolve()
    const through = tail.at(-1)!.id
    // Nothing follows a terminal event, so there is nothing to reserve past it.
    const reserved = this.#terminalId === through ? through : through + RESERVE
    this.#chunks.write(tail, reserved)
    this.rowsWritten += 1
    this.#written = this.#memory.length
    this.#tailBytes = 0
    this.#reservedWritten = Math.max(this.#reservedWritten, reserved)
    return this.#whenDurable(() => {
      this.#durableThrough = Math.max(this.#durableThrough, through)
      this.#reservedDurable = Math.max(this.#reservedDurable, reserved)
    })
  }

  /**
   * Characters the answer streamed, from the log, by kind: text, reasoning, tool names and
   * arguments. What a cut answer is charged by when no usage came.
   */
  streamedChars(): Required<Pick<AnswerSummary, 'textChars' | 'reasoningChars' | 'toolCallChars'>> {
    const chars = { textChars: 0, reasoningChars: 0, toolCallChars: 0 }
    const add = (event: StoredEvent) => {
      switch (event.event) {
        case 'delta':
          chars.textChars += event.data.length - TEXT_OVERHEAD
          break
        case 'reasoning':
          chars.reasoningChars += (JSON.parse(event.data) as ReasoningEventData).text.length
          break
        case 'tool_call': {
          const call = JSON.parse(event.data) as ToolCallEventData
          chars.toolCallChars += (call.name?.length ?? 0) + call.arguments_delta.length
        }
      }
    }
    for (const event of this.#chunks.all()) if (event.id < this.#firstInMemory) add(event)
    for (const event of this.#memory) add(event)
    return chars
  }

  /**
   * Up to `limit` events after `afterId`, in order, as far as a reader may have them
   * (`visibleId`): from storage, then from memory for those not yet durable.
   */
  after(afterId: number, limit: number): StoredEvent[] {
    const visible = this.visibleId
    const out = this.#chunks.after(afterId, Math.min(visible, this.#firstInMemory - 1), limit)
    const from = out.at(-1)?.id ?? afterId
    // Ids in memory are consecutive: start at the first one wanted rather than search for it.
    for (let i = Math.max(0, from + 1 - this.#firstInMemory); i < this.#memory.length; i++) {
      const event = this.#memory[i]!
      if (out.length >= limit || event.id > visible) break
      out.push(event)
    }
    return out
  }

  /** Forgets the stream: its tables and its meta. */
  clear(): void {
    this.#chunks.forget()
    this.#meta = undefined
    this.#lastId = 0
    this.#memory = []
    this.#written = 0
  }

  get #firstInMemory(): number {
    return this.#memory[0]?.id ?? Infinity
  }

  /**
   * Runs `confirmed` once every write so far is durable (`storage.sync()`, which waits for
   * confirmed and unconfirmed writes alike), tells the object, then drops from memory what is
   * written and durable: readers read that from storage.
   */
  async #whenDurable(confirmed: () => void): Promise<void> {
    const written = this.#memory[this.#written - 1]?.id ?? 0
    await this.storage.sync()
    confirmed()
    this.onVisible()
    const durable = Math.min(written, this.#durableThrough)
    const drop = this.#memory.findIndex((event) => event.id > durable)
    const count = drop === -1 ? this.#memory.length : drop
    this.#memory.splice(0, count)
    this.#written -= count
  }
}

/** A delta's stored data less its text (JSON-escaped): `{"text":"…"}`. */
const TEXT_OVERHEAD = '{"text":""}'.length
