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
