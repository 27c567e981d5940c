/** `circuit_breaker` of a model (`config/models.ts`). */
export interface BreakerSettings {
  /** Consecutive failures that open the circuit. */
  failures: number
  /** How long an open circuit skips the upstream before one trial request may go. */
  cooldown_ms: number
}

/**
 * - `closed`: requests go; consecutive failures are counted (`last`: when the latest came).
 * - `open`: requests are skipped until `until`.
 * - `trial`: the cooldown has passed and one request has been let through; others are skipped
 *   until it succeeds (closed) or fails (open again, for another cooldown).
 */
export type BreakerState =
  | { state: 'closed'; failures: number; last?: number }
  | { state: 'open'; until: number }
  | { state: 'trial'; since: number }

/**
 * One upstream's circuit breaker, as a plain state machine with the clock passed in: every
 * decision is synchronous, so the happy path (a closed circuit) costs a field read.
 *
 * A trial that never reports (its isolate died mid-request) must not keep the circuit shut for
 * ever: after another cooldown, the next request is let through as a new trial. And failures
 * more than a cooldown apart are not "in a row": an isolate that has seen no failure does not
 * report its successes (that would cost a call per request), so the shared count could otherwise
 * add up failures from hours apart.
 */
export class CircuitBreaker {
  #state: BreakerState = { state: 'closed', failures: 0 }

  constructor(private readonly settings: BreakerSettings) {}

  get state(): BreakerState {
    return this.#state
  }

  /** Whether a request may go to the upstream now; `true` for an open circuit's trial, once. */
  allows(now: number): boolean {
    const s = this.#state
    if (s.state === 'closed') return true
    if (s.state === 'open' && now < s.until) return false
    if (s.state === 'trial' && now < s.since + this.settings.cooldown_ms) return false
    this.#state = { state: 'trial', since: now }
    return true
  }

  /** The upstream answered: the circuit closes and the count starts again. */
  succeeded(): void {
    if (this.#state.state !== 'closed' || this.#state.failures) this.#state = { state: 'closed', failures: 0 }
  }

  /**
   * Takes the state every isolate shares (`UpstreamHealth`). Another isolate's trial is, for this
   * one, an open circuit until that trial could have timed out.
   */
  adopt(shared: BreakerState): void {
    this.#state = shared.state === 'trial' ? { state: 'open', until: shared.since + this.settings.cooldown_ms } : shared
  }

  /** Whether nothing has failed since the last success: the state an isolate need not report. */
  get healthy(): boolean {
    return this.#state.state === 'closed' && this.#state.failures === 0
  }

  /** The upstream failed in a way that says it is unwell (not a request it found wrong). */
  failed(now: number): void {
    const s = this.#state
    const recent = s.state === 'closed' && s.last !== undefined && now - s.last < this.settings.cooldown_ms
    const failures = s.state !== 'closed' ? this.settings.failures : recent ? s.failures + 1 : 1
    this.#state =
      failures >= this.settings.failures
        ? { state: 'open', until: now + this.settings.cooldown_ms }
        : { state: 'closed', failures, last: now }
  }
}
