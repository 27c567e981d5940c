/** Fields of a log line: facts about what happened, never message content or a credential. */
export type LogFields = Record<string, unknown>

type Level = 'info' | 'warn' | 'error'

/**
 * The gateway's one logger: a line of JSON per call, `{ level, msg, ...fields }`, which Workers
 * Logs indexes by field. `info` goes to `console.log`, `warn` and `error` to their own console
 * methods, so the platform files them at the right level.
 *
 * @example
 * ```ts
 * log.info('answer ended', { model, outcome: 'done' })
 * ```
 */
export const log = {
  info: (msg: string, fields?: LogFields) => console.log(line('info', msg, fields)),
  warn: (msg: string, fields?: LogFields) => console.warn(line('warn', msg, fields)),
  error: (msg: string, fields?: LogFields) => console.error(line('error', msg, fields)),
}

function line(level: Level, msg: string, fields?: LogFields): string {
  return JSON.stringify({ level, msg, ...fields })
}

/**
 * What the log and the ledger hold in place of an id that opens something (a stream id, the
 * capability to read and stop its answer; a response id, which carries one; a chat id, which
 * names a caller's conversation): `#` and 8 hex digits, the same for the same id everywhere, so
 * the lines of one answer can be found together, and never the id. FNV-1a, 32 bits: a
 * correlation tag, not a secret, synchronous so that any log call can make it; 32 bits of a
 * 144-bit random id give nothing to guess the rest from.
 */
export function idTag(id: string): string {
  let hash = 0x811c9dc5
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193)
  return `#${(hash >>> 0).toString(16).padStart(8, '0')}`
}
