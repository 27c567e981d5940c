/**
 * What a surface keeps beside its answer (the Responses API: who owns it, the conversation it
 * answered, the settings it repeats back): one JSON text in its own table, opaque to the object.
 * Apart from the event log and its meta, so neither's format changes; removed with the rest of
 * the object's storage when the answer expires or is deleted.
 */
export class Attachment {
  constructor(private readonly sql: SqlStorage) {}

  put(json: string): void {
    this.sql.exec(
      'CREATE TABLE IF NOT EXISTS attachment (only INTEGER PRIMARY KEY CHECK (only = 1), json TEXT NOT NULL)',
    )
    this.sql.exec('INSERT OR REPLACE INTO attachment (only, json) VALUES (1, ?)', json)
  }

  /** The attachment, or null when the answer has none (or the object holds no answer). */
  get(): string | null {
    const exists = this.sql
      .exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'attachment'")
      .toArray().length
    if (!exists) return null
    return this.sql.exec<{ json: string }>('SELECT json FROM attachment').toArray()[0]?.json ?? null
  }
}
