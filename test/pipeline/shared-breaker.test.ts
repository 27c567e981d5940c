import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { SharedBreaker, breakerFor, type HealthStub } from '../../src/pipeline/shared-breaker'
import { asEnv } from '../helpers/env'

const settings = { failures: 3, cooldown_ms: 60_000 }

/** Two isolates' views of one upstream, kept in step by the real `UpstreamHealth` object. */
function isolates(upstream: string, breakerSettings = settings) {
  const remote = () => env.UPSTREAM_HEALTH.get(env.UPSTREAM_HEALTH.idFromName(upstream)) as unknown as HealthStub
  return [new SharedBreaker(breakerSettings, remote), new SharedBreaker(breakerSettings, remote)] as const
}

describe('SharedBreaker', () => {
  it('on the happy path neither asks nor tells the shared object anything', () => {
    const calls: string[] = []
    const spy = (): HealthStub => ({
      report: () => Promise.reject(new Error(String(calls.push('report')))),
      trial: () => Promise.reject(new Error(String(calls.push('trial')))),
    })
    const breaker = new SharedBreaker(settings, spy)
    for (let i = 0; i < 5; i++) {
      expect(breaker.allows(Date.now())).toBe(true)
      expect(breaker.succeeded()).toBeUndefined()
    }
    expect(calls).toEqual([])
  })

  it('counts failures across isolates: one that never failed itself learns the circuit is open', async () => {
    const [a, b] = isolates('counts-across-isolates')
    await a.failed(Date.now())
    await a.failed(Date.now())
    expect(b.allows(Date.now())).toBe(true)
    // The third failure in a row, in another isolate, opens the circuit for both.
    await b.failed(Date.now())
    expect(b.allows(Date.now())).toBe(false)
    await a.failed(Date.now())
    expect(a.allows(Date.now())).toBe(false)
  })

  it('a success in an isolate that has seen failures resets the shared count', async () => {
    const [a, b] = isolates('success-resets')
    await a.failed(Date.now())
    await b.failed(Date.now())
    // b has seen two failures (its own, and a's through the object): its success is reported.
    const report = b.succeeded()
    expect(report).toBeInstanceOf(Promise)
    await report
    await a.failed(Date.now())
    expect(a.state).toMatchObject({ state: 'closed', failures: 1 })
    expect(a.allows(Date.now())).toBe(true)
  })

  it('after the cooldown lets one trial through, of all isolates', async () => {
    const short = { failures: 1, cooldown_ms: 50 }
    const [a, b] = isolates('one-trial', short)
    await a.failed(Date.now())
    await b.failed(Date.now())
    expect(a.allows(Date.now())).toBe(false)
    await new Promise((resolve) => setTimeout(resolve, 60))
    const verdicts = await Promise.all([a.allows(Date.now()), b.allows(Date.now())])
    expect(verdicts.filter(Boolean)).toHaveLength(1)
    // The trial succeeds: the circuit closes for everyone.
    const trial = verdicts[0] ? a : b
    await trial.succeeded()
    const other = trial === a ? b : a
    await other.failed(Date.now())
    // One failure (this one's) reopens it with failures: 1, so the shared count was reset by the trial.
    expect(other.allows(Date.now())).toBe(false)
  })

  it('without the binding, each isolate keeps its own circuit', () => {
    const breaker = breakerFor('no-binding', settings, asEnv({}))
    for (let i = 0; i < 3; i++) expect(breaker.failed(Date.now())).toBeUndefined()
    expect(breaker.allows(Date.now())).toBe(false)
  })

  it('keeps one breaker per upstream for the isolate, and a new one when its settings change', () => {
    const a = breakerFor('model-a', settings, env)
    expect(breakerFor('model-a', settings, env)).toBe(a)
    expect(breakerFor('model-b', settings, env)).not.toBe(a)
    expect(breakerFor('model-a', { ...settings }, env)).not.toBe(a)
  })
})
