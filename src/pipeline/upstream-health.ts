import { DurableObject } from 'cloudflare:workers'
import { CircuitBreaker, type BreakerSettings, type BreakerState } from './circuit-breaker'

/**
 * One upstream's circuit, shared by every isolate (one object per model name). Isolates call it
 * only when something has gone wrong: to report a failure, the first success after failures, or
 * to ask for the one trial once a cooldown has passed (`shared-breaker.ts`); a healthy upstream
 * never hears from them, so the happy path pays no round trip.
 *
 * The state is kept in memory, not storage: it is soft. An object evicted after a quiet spell
 * starts closed, which is what a quiet spell means anyway, and an isolate that finds the
 * upstream still down reopens it within `failures` attempts.
 */
export class UpstreamHealth extends DurableObject<Env> {
  #breaker: CircuitBreaker | undefined
  #settings = ''

  /** Records an attempt's outcome and returns the state every isolate should now hold. */
  report(outcome: 'succeeded' | 'failed', settings: BreakerSettings): BreakerState {
    const breaker = this.#breakerFor(settings)
    if (outcome === 'succeeded') breaker.succeeded()
    else breaker.failed(Date.now())
    return breaker.state
  }

  /** Whether the caller may send the trial request now (only one caller is told yes per cooldown). */
  trial(settings: BreakerSettings): { allowed: boolean; state: BreakerState } {
    const breaker = this.#breakerFor(settings)
    const allowed = breaker.allows(Date.now())
    return { allowed, state: breaker.state }
  }

  #breakerFor(settings: BreakerSettings): CircuitBreaker {
    // A deploy may change the settings: start again under the new ones.
    const key = `${settings.failures}/${settings.cooldown_ms}`
    if (!this.#breaker || key !== this.#settings) {
      this.#breaker = new CircuitBreaker(settings)
      this.#settings = key
    }
    return this.#breaker
  }
}
