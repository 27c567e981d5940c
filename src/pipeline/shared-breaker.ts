import { optionalBinding } from '../config/bindings'
import { CircuitBreaker, type BreakerSettings, type BreakerState } from './circuit-breaker'
import type { UpstreamHealth } from './upstream-health'

/** The shared object as an isolate calls it (RPC: every call is a promise). */
export interface HealthStub {
  report(outcome: 'succeeded' | 'failed', settings: BreakerSettings): Promise<BreakerState>
  trial(settings: BreakerSettings): Promise<{ allowed: boolean; state: BreakerState }>
}
type HealthNamespace = DurableObjectNamespace<UpstreamHealth>

/**
 * An upstream's circuit as this isolate sees it: its own `CircuitBreaker`, read synchronously,
 * kept in step with the `UpstreamHealth` object every isolate shares, which is consulted only
 * while something is wrong:
 *
 * - closed with no failures (the happy path): no call at all, before or after the request;
 * - a failure, and the first success after failures: reported, the object's answer adopted
 *   (so the isolate learns that others have opened the circuit from its own first failure);
 * - an open circuit past its cooldown: the object decides which one request, of all isolates',
 *   is the trial.
 *
 * The reports return promises for `waitUntil`; nobody waits for them. Without the binding (or
 * when the object cannot be reached) the isolate's own breaker decides alone.
 */
export class SharedBreaker {
  readonly #local: CircuitBreaker

  constructor(
    private readonly settings: BreakerSettings,
    private readonly remote: (() => HealthStub) | undefined,
  ) {
    this.#local = new CircuitBreaker(settings)
  }

  get state() {
    return this.#local.state
  }

  /** Whether a request may go now: synchronous unless a cooldown has just ended. */
  allows(now: number): boolean | Promise<boolean> {
    const state = this.#local.state
    if (state.state === 'closed') return true
    if (state.state === 'open' && now < state.until) return false
    if (!this.remote) return this.#local.allows(now)
    return this.#call((stub) => stub.trial(this.settings)).then(
      ({ allowed, state: shared }) => {
        this.#local.adopt(shared)
        return allowed
      },
      () => this.#local.allows(Date.now()),
    )
  }

  /** The upstream answered. Reported only when it had failed before. */
  succeeded(): Promise<void> | undefined {
    const wasHealthy = this.#local.healthy
    this.#local.succeeded()
    if (wasHealthy || !this.remote) return undefined
    return this.#report('succeeded')
  }

  /** The upstream failed: counted here at once, and reported for every isolate. */
  failed(now: number): Promise<void> | undefined {
    this.#local.failed(now)
    return this.remote ? this.#report('failed') : undefined
  }

  #report(outcome: 'succeeded' | 'failed'): Promise<void> {
    return this.#call((stub) => stub.report(outcome, this.settings)).then(
      (shared) => this.#local.adopt(shared),
      () => {
        // The object is unreachable: this isolate's own count still holds.
      },
    )
  }

  async #call<T>(call: (stub: HealthStub) => Promise<T>): Promise<T> {
    return await call(this.remote!())
  }
}

/**
 * This isolate's breakers, one per model name. Module memory lives as long as the isolate, which
 * serves many requests; a new isolate starts closed and learns the shared state from its first
 * failure.
 */
const breakers = new Map<string, { breaker: SharedBreaker; settings: BreakerSettings }>()

/** The breaker for `upstream`; a fresh one if its settings changed (a new config). */
export function breakerFor(upstream: string, settings: BreakerSettings, env: Env): SharedBreaker {
  const found = breakers.get(upstream)
  if (found && found.settings === settings) return found.breaker
  const namespace = optionalBinding<HealthNamespace>(env, 'UPSTREAM_HEALTH')
  const remote = namespace && (() => namespace.get(namespace.idFromName(upstream)) as unknown as HealthStub)
  const breaker = new SharedBreaker(settings, remote)
  breakers.set(upstream, { breaker, settings })
  return breaker
}
