import type { StoredEvent } from '../events/stored-event'
import { formatRecords, parseRecords } from './record-format'

/**
 * A stream's events in storage, many to a row: each chunk is one key of the object's key-value
 * storage, named by the id of its first event, holding consecutive events as record lines
 * (`record-format.ts`) and the reserved id mark (`EventLog`) as of its write.
 *
 * Key-value rather than a SQL table for one reason: `put()` takes `allowUnconfirmed`, and
 * `sql.exec()` has no such option (workerd `src/workerd/io/actor-sqlite.c++`: SQL statements
 * always count as confirmed writes). A confirmed write holds everything the object sends until it
 * is durable; an unconfirmed one lets live readers have each event at once. The key-value API of
 * a SQLite-backed object is a table in the same database (one row per key, billed as such), so
 * a chunk is one row written, and it commits with the SQL writes of the same turn.
 */
export interface Chunk {
  /** Ids up to here may have been given to a reader before a later chunk is durable. */
  reserved: number
  records: string
}

const PREFIX = 'events:'
/** Fixed width, so keys sort as ids do (event ids are at most 15 digits, `event-ids.ts`). */
const keyOf = (first: number) => PREFIX + String(first).padStart(16, '0')
const firstOf = (key: string) => Number(key.slice(PREFIX.length))
/** Old rows per chunk when adopting a stream stored one row per event. */
const LEGACY_ROWS_PER_CHUNK = 256

interface Decoded {
  first: number
  events: StoredEvent[]
}

export class EventChunks {
  /** The chunk read last, decoded. Chunks never change once written, so it cannot go stale. */
  #cached: Decoded | undefined

  constructor(private readonly storage: DurableObjectStorage) {}

  /**
   * Writes consecutive events as one chunk, without holding back what the object sends
   * (`allowUnconfirmed`). It is applied at once, so reads in this instance see it; `sync()` says
   * when it is durable.
   */
  write(events: StoredEvent[], reserved: number): void {
    const chunk: Chunk = { reserved, records: formatRecords(events) }
    void this.storage.put(keyOf(events[0]!.id), chunk, { allowUnconfirmed: true })
  }

  /**
   * Moves the events of a stream stored before chunks (one SQL row per event, table `events`)
   * into chunks, once: a stream running or kept across the deploy that brought chunks reads on as
   * before. Those rows were durable before any reader saw them, so nothing was reserved past them.
   */
  adoptLegacyRows(): void {
    const sql = this.storage.sql
    if (!sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").toArray().length) return
    const rows = sql
      .exec<{ id: number; event: StoredEvent['event']; data: string }>('SELECT id, event, data FROM events ORDER BY id')
      .toArray()
    for (let i = 0; i < rows.length; i += LEGACY_ROWS_PER_CHUNK) {
      const events = rows.slice(i, i + LEGACY_ROWS_PER_CHUNK)
      this.storage.kv.put(keyOf(events[0]!.id), { reserved: events.at(-1)!.id, records: formatRecords(events) })
    }
    sql.exec('DROP TABLE events')
  }

  /** The newest chunk's last event id and reserved mark, and whether that event ends the stream. */
  last(): { lastId: number; reserved: number; lastEvent: StoredEvent | undefined } {
    for (const [key, chunk] of this.storage.kv.list<Chunk>({ prefix: PREFIX, reverse: true, limit: 1 })) {
      const events = decode(firstOf(key), chunk)
      const lastEvent = events.at(-1)
      return { lastId: lastEvent?.id ?? 0, reserved: chunk.reserved, lastEvent }
    }
    return { lastId: 0, reserved: 0, lastEvent: undefined }
  }

  /**
   * Up to `limit` stored events after `afterId` and at most `through`, in order. A reader reads
   * a chunk in pages, so the chunk it is in is kept decoded: the next page costs no read at all.
   */
  after(afterId: number, through: number, limit: number): StoredEvent[] {
    const out: StoredEvent[] = []
    if (afterId >= through || limit <= 0) return out
    // The chunk holding `afterId + 1`, if one does (the newest whose first id is at most that),
    // else the first one after it (after a restart, ids past the last stored event are skipped).
    let chunk = this.#holding(afterId + 1) ?? this.#next(afterId + 1)
    while (chunk) {
      for (let i = Math.max(0, afterId + 1 - chunk.first); i < chunk.events.length; i++) {
        const event = chunk.events[i]!
        if (event.id > through || out.length >= limit) return out
        out.push(event)
      }
      chunk = this.#next(chunk.first + 1)
    }
    return out
  }

  /** Forgets what it has read (the stream's storage is being deleted). */
  forget(): void {
    this.#cached = undefined
  }

  #holding(id: number): Decoded | undefined {
    const cached = this.#cached
    if (cached && cached.first <= id && id < cached.first + cached.events.length) return cached
    for (const [key, chunk] of this.storage.kv.list<Chunk>({
      prefix: PREFIX,
      end: keyOf(id + 1),
      reverse: true,
      limit: 1,
    })) {
      const decoded = { first: firstOf(key), events: decode(firstOf(key), chunk) }
      if (decoded.first + decoded.events.length <= id) return undefined
      return (this.#cached = decoded)
    }
    return undefined
  }

  /** The first chunk whose first id is at least `id`. */
  #next(id: number): Decoded | undefined {
    for (const [key, chunk] of this.storage.kv.list<Chunk>({ prefix: PREFIX, start: keyOf(id), limit: 1 })) {
      return (this.#cached = { first: firstOf(key), events: decode(firstOf(key), chunk) })
    }
    return undefined
  }

  /** Every stored event, oldest first, a chunk at a time (for a scan of the whole answer). */
  *all(): Generator<StoredEvent> {
    for (const [key, chunk] of this.storage.kv.list<Chunk>({ prefix: PREFIX })) yield* decode(firstOf(key), chunk)
  }
}

function decode(first: number, chunk: Chunk): StoredEvent[] {
  return parseRecords(chunk.records).map((record, i) => ({ id: first + i, ...record }))
}
