import type { Lease } from '../access/leases'
import type { EventRecord, StoredEvent } from '../events/stored-event'

/** SQLite in a Durable Object binds at most 100 values per statement: 33 rows of three. */
const ROWS_PER_INSERT = 33
const insertStatements: string[] = []
const insertStatement = (rows: number) =>
  (insertStatements[rows] ??= `INSERT INTO events (id, event, data) VALUES ${Array(rows).fill('(?, ?, ?)').join(', ')}`)

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
  /** Some reader has been given the terminal event, whatever its format: someone has the answer whole. */
  endRead?: boolean
}

/**
 * A stream's events in its Durable Object's SQLite storage, numbered from 1.
 *
 * Nothing is written until `create`: an object asked about an id that was never created stays
 * empty, so probing random ids leaves no storage behind. Writes are synchronous; the runtime
 * commits all the writes of one synchronous run as one transaction, and (its output gate) holds
 * back what the object sends until they are durable, so a reader never sees an event that a
 * restart could lose.
 */
export class EventLog {
  #meta: StreamMeta | undefined
  #lastId = 0
  /** Rows this instance has written, as SQLite counts them (what Cloudflare bills). */
  rowsWritten = 0

  constructor(private readonly sql: SqlStorage) {
    const exists = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'stream'").toArray().length
    if (!exists) return
    const row = sql.exec<{ meta: string }>('SELECT meta FROM stream').toArray()[0]
    this.#meta = row && (JSON.parse(row.meta) as StreamMeta)
    this.#lastId = sql.exec<{ last: number | null }>('SELECT MAX(id) AS last FROM events').one().last ?? 0
  }

  /** Undefined for an object that holds no stream (never created, or deleted after retention). */
  get meta(): StreamMeta | undefined {
    return this.#meta
  }

  /** The id of the newest event; 0 when there is none. */
  get lastId(): number {
    return this.#lastId
  }

  create(meta: StreamMeta): void {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, event TEXT NOT NULL, data TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS stream (only INTEGER PRIMARY KEY CHECK (only = 1), meta TEXT NOT NULL)`)
    this.#lastId = 0
    this.update(meta)
  }

  update(meta: StreamMeta): void {
    this.#meta = meta
    this.rowsWritten += this.sql.exec(
      'INSERT OR REPLACE INTO stream (only, meta) VALUES (1, ?)',
      JSON.stringify(meta),
    ).rowsWritten
  }

  /**
   * Stores events in order, numbering them on from the last: one row each, as few statements as
   * the limit of 100 bound values allows.
   */
  append(records: EventRecord[]): StoredEvent[] {
    const stored = records.map(({ event, data }) => ({ id: ++this.#lastId, event, data }))
    for (let i = 0; i < stored.length; i += ROWS_PER_INSERT) {
      const rows = stored.slice(i, i + ROWS_PER_INSERT)
      const values = rows.flatMap(({ id, event, data }) => [id, event, data])
      this.rowsWritten += this.sql.exec(insertStatement(rows.length), ...values).rowsWritten
    }
    return stored
  }

  /**
   * Characters the answer streamed, from the log: text, reasoning, tool names and arguments.
   * What a cut answer is charged by when no usage came.
   */
  textChars(): number {
    return (
      this.sql
        .exec<{ chars: number | null }>(
          `SELECT SUM(LENGTH(COALESCE(json_extract(data, '$.text'), '')) + LENGTH(COALESCE(json_extract(data, '$.name'), ''))
             + LENGTH(COALESCE(json_extract(data, '$.arguments_delta'), ''))) AS chars
           FROM events WHERE event IN ('delta', 'reasoning', 'tool_call')`,
        )
        .one().chars ?? 0
    )
  }

  /** Up to `limit` events after `afterId`, in order. */
  after(afterId: number, limit: number): StoredEvent[] {
    return this.sql
      .exec<{ id: number; event: StoredEvent['event']; data: string }>(
        'SELECT id, event, data FROM events WHERE id > ? ORDER BY id LIMIT ?',
        afterId,
        limit,
      )
      .toArray()
  }

  /** Forgets the stream: its tables and its meta. */
  clear(): void {
    this.#meta = undefined
    this.#lastId = 0
  }
}
