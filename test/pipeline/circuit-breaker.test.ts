import { describe, expect, it } from 'vitest'
import { CircuitBreaker } from '../../src/pipeline/circuit-breaker'

const settings = { failures: 3, cooldown_ms: 1000 }

describe('CircuitBreaker', () => {
  it('opens after that many consecutive failures, and skips the upstream until the cooldown ends', () => {
    const breaker = new CircuitBreaker(settings)
    breaker.failed(0)
    breaker.failed(1)
    expect(breaker.allows(2)).toBe(true)
    breaker.failed(2)
    expect(breaker.state).toEqual({ state: 'open', until: 1002 })
    expect(breaker.allows(3)).toBe(false)
    expect(breaker.allows(1001)).toBe(false)
  })

  it('counts only consecutive failures: a success starts the count again', () => {
    const breaker = new CircuitBreaker(settings)
    breaker.failed(0)
    breaker.failed(1)
    breaker.succeeded()
    breaker.failed(2)
    breaker.failed(3)
    expect(breaker.allows(4)).toBe(true)
    expect(breaker.state).toEqual({ state: 'closed', failures: 2, last: 3 })
  })

  it('forgets failures more than a cooldown apart: they are not in a row', () => {
    const breaker = new CircuitBreaker(settings)
    breaker.failed(0)
    breaker.failed(600)
    expect(breaker.state).toEqual({ state: 'closed', failures: 2, last: 600 })
    breaker.failed(1700)
    expect(breaker.state).toEqual({ state: 'closed', failures: 1, last: 1700 })
  })

  it('after the cooldown lets exactly one trial through; its success closes the circuit', () => {
    const breaker = new CircuitBreaker(settings)
    for (let i = 0; i < 3; i++) breaker.failed(0)
    expect(breaker.allows(1000)).toBe(true)
    expect(breaker.state.state).toBe('trial')
    expect(breaker.allows(1001)).toBe(false)
    breaker.succeeded()
    expect(breaker.allows(1002)).toBe(true)
    expect(breaker.allows(1003)).toBe(true)
  })

  it('a failed trial opens the circuit again for a whole cooldown', () => {
    const breaker = new CircuitBreaker(settings)
    for (let i = 0; i < 3; i++) breaker.failed(0)
    expect(breaker.allows(1000)).toBe(true)
    breaker.failed(1100)
    expect(breaker.state).toEqual({ state: 'open', until: 2100 })
    expect(breaker.allows(2099)).toBe(false)
    expect(breaker.allows(2100)).toBe(true)
  })

  it('a trial that never reports does not keep the circuit shut for ever', () => {
    const breaker = new CircuitBreaker(settings)
    for (let i = 0; i < 3; i++) breaker.failed(0)
    expect(breaker.allows(1000)).toBe(true)
    expect(breaker.allows(1999)).toBe(false)
    expect(breaker.allows(2000)).toBe(true)
  })
})

describe('CircuitBreaker.adopt', () => {
  it('takes the shared state; another isolate’s trial is an open circuit here until it could have timed out', () => {
    const breaker = new CircuitBreaker(settings)
    breaker.adopt({ state: 'trial', since: 5000 })
    expect(breaker.allows(5999)).toBe(false)
    expect(breaker.allows(6000)).toBe(true)
    breaker.adopt({ state: 'closed', failures: 2, last: 6500 })
    expect(breaker.healthy).toBe(false)
    breaker.failed(7000)
    expect(breaker.state.state).toBe('open')
  })
})
