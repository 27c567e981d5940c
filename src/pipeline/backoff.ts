/** The first retry's ceiling; each later one doubles it, up to `BACKOFF_CAP_MS`. */
export const BACKOFF_BASE_MS = 250
/** The longest a retry waits on its own account (an upstream's `Retry-After` may ask for more). */
export const BACKOFF_CAP_MS = 4_000

/**
 * How long to wait before retry number `retry` (0 for the first): "full jitter", a uniform draw
 * between 0 and an exponentially growing ceiling, as AWS's "Exponential Backoff and Jitter"
 * recommends. Spreading retries at random keeps many isolates that failed together from all
 * coming back together, which is what brings a recovering upstream down again.
 */
export function backoffMs(retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** retry)
  return Math.floor(random() * ceiling)
}

/**
 * An upstream's `Retry-After` in milliseconds: delay-seconds, or an HTTP date (RFC 9110 §10.2.3).
 * Undefined when absent or unreadable; never negative.
 */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  // HTTP dates end in GMT (IMF-fixdate, RFC 850); Date.parse alone reads far too much as a date.
  const at = /GMT$/.test(trimmed) ? Date.parse(trimmed) : NaN
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/**
 * The wait before retrying after a failure: the upstream's `Retry-After` when it gave one (it
 * knows when it will have room), else jittered backoff. Undefined when the upstream asks for
 * longer than `maxRetryAfterMs`: the caller should not wait, and goes to a fallback instead.
 */
export function retryDelayMs(
  retry: number,
  retryAfter: string | undefined,
  maxRetryAfterMs: number,
  random?: () => number,
): number | undefined {
  const asked = retryAfterMs(retryAfter)
  if (asked === undefined) return backoffMs(retry, random)
  return asked > maxRetryAfterMs ? undefined : asked
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason as Error)
  return new Promise((resolve, reject) => {
    const done = () => {
      signal.removeEventListener('abort', aborted)
      resolve()
    }
    const timer = setTimeout(done, ms)
    const aborted = () => {
      clearTimeout(timer)
      reject(signal.reason as Error)
    }
    signal.addEventListener('abort', aborted, { once: true })
  })
}
