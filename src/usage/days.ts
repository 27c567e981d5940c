/** UTC dates as the ledger keeps them (`YYYY-MM-DD`), and the arithmetic the usage routes need. */

const DAY_MS = 86_400_000

export function dayOf(time: number): string {
  return new Date(time).toISOString().slice(0, 10)
}

/** `days` days back from `time`'s day, as a date. */
export function daysBefore(time: number, days: number): string {
  return dayOf(time - days * DAY_MS)
}

/** The next UTC midnight after `time`, when daily budgets start again. */
export function nextDay(time: number): string {
  return new Date((Math.floor(time / DAY_MS) + 1) * DAY_MS).toISOString()
}

/** Whether `value` is a real calendar date written `YYYY-MM-DD` (not 2026-02-30). */
export function isDay(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value)) && dayOf(Date.parse(value)) === value
}
