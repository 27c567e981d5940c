import { describe, expect, it } from 'vitest'
import {
  BACKOFF_BASE_MS,
  BACKOFF_CAP_MS,
  backoffMs,
  retryAfterMs,
  retryDelayMs,
  sleep,
} from '../../src/pipeline/backoff'

describe('backoffMs (full jitter)', () => {
  it('draws between 0 and a ceiling that doubles with each retry, up to the cap', () => {
    for (let retry = 0; retry < 12; retry++) {
      const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** retry)
      expect(backoffMs(retry, () => 0)).toBe(0)
      // The draw is below the ceiling, never at it: Math.random() < 1.
      expect(backoffMs(retry, () => 0.999_999)).toBe(ceiling - 1)
      for (let i = 0; i < 50; i++) {
        const wait = backoffMs(retry)
        expect(wait).toBeGreaterThanOrEqual(0)
        expect(wait).toBeLessThan(ceiling)
      }
    }
    expect(backoffMs(30, () => 0.5)).toBe(BACKOFF_CAP_MS / 2)
  })

  it('spreads retries: many draws are not all alike', () => {
    const draws = new Set(Array.from({ length: 100 }, () => backoffMs(3)))
    expect(draws.size).toBeGreaterThan(10)
  })
})

describe('retryAfterMs', () => {
  it('reads delay-seconds and HTTP dates, and nothing else', () => {
    const now = Date.parse('2026-12-06T10:00:00Z')
    expect(retryAfterMs('1', now)).toBe(1000)
    expect(retryAfterMs(' 0 ', now)).toBe(0)
    expect(retryAfterMs('Sun, 06 Dec 2026 10:00:03 GMT', now)).toBe(3000)
    expect(retryAfterMs('Sun, 06 Dec 2026 09:00:00 GMT', now)).toBe(0)
    expect(retryAfterMs(undefined, now)).toBeUndefined()
    expect(retryAfterMs('soon', now)).toBeUndefined()
    expect(retryAfterMs('-5', now)).toBeUndefined()
  })
})

describe('retryDelayMs', () => {
  it('honours Retry-After up to the cap, and refuses to wait past it', () => {
    expect(retryDelayMs(0, '1', 5000)).toBe(1000)
    expect(retryDelayMs(0, '5', 5000)).toBe(5000)
    expect(retryDelayMs(0, '12', 5000)).toBeUndefined()
  })

  it('backs off with jitter when the upstream names no wait', () => {
    expect(retryDelayMs(2, undefined, 5000, () => 0.5)).toBe(BACKOFF_BASE_MS * 2)
  })
})

describe('sleep', () => {
  it('stops at once when the signal aborts', async () => {
    const controller = new AbortController()
    const waiting = sleep(60_000, controller.signal)
    controller.abort(new Error('left'))
    await expect(waiting).rejects.toThrow('left')
  })
})
