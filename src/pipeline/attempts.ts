import type { GatewayConfig } from '../config/load'
import { keyRestMsOf, keySecretsOf, type ModelConfig } from '../config/models'
import { GatewayError } from '../errors'
import { log } from '../log'
import { adapterFor } from '../providers'
import type { UpstreamStream } from '../providers/types'
import type { UpstreamRequest } from '../request/native-request'
import { retryAfterMs, retryDelayMs, sleep } from './backoff'
import { breakerFor } from './shared-breaker'
import { awaitFirstEvent } from './first-event'
import { hasAwakeKey, pickKey, restKey } from './key-pool'
import { clientClosed, openUpstream } from './open-upstream'

/** What trying one model needs: the scope's settings and how many attempts the answer has made. */
export interface AttemptContext {
  config: GatewayConfig
  env: Env
  signal: AbortSignal
  /** Attempts made for this answer so far, across its models; each upstream request adds one. */
  tally: { attempts: number }
  /** Keeps a report to the shared circuit going after the answer has moved on (`waitUntil`). */
  waitUntil?: ((promise: Promise<unknown>) => void) | undefined
}

/** A model that answered: its stream (its first event already read) and the key that served it. */
export interface Served {
  stream: UpstreamStream
  /** The name of the secret whose key served the answer; none for a keyless model. */
  keySecret?: string
}

/**
 * Asks one model for its answer: up to `1 + retries` attempts, each waiting for the first real
 * event, with jittered exponential backoff (or the upstream's `Retry-After`) between them. Only a
 * failure that can succeed on a second try is retried (`GatewayError.retryable`: unreachable,
 * timeouts, 408, 409, 429, 5xx, a stream that ended or failed before its first event); one that
 * says the request or the setup is wrong (400, 401, 403, 404) is thrown at once. When the
 * upstream asks for a longer wait than `max_retry_after_ms`, or the model's circuit is open, the
 * last failure is thrown so the caller goes on to a fallback.
 *
 * A 429 rests the key that got it (`key-pool.ts`); with another key awake, the retry goes at once.
 */
export async function attemptModel(
  context: AttemptContext,
  name: string,
  model: ModelConfig,
  request: UpstreamRequest,
): Promise<Served> {
  const { config, env, signal, tally } = context
  const breaker = breakerFor(name, model.circuit_breaker, env)
  const background = (report: Promise<void> | undefined) => {
    if (report) context.waitUntil?.(report)
  }
  const keys = keySecretsOf(model)
  let last: GatewayError | undefined
  for (let retry = 0; ; retry++) {
    // Synchronous while the circuit is closed: only a cooldown's end asks the shared object.
    const allowed = breaker.allows(Date.now())
    if (allowed !== true && !(await allowed)) throw last ?? circuitOpen(name)
    const keySecret = pickKey(name, keys)
    tally.attempts++
    try {
      const adapter = adapterFor(name, model, env, keySecret)
      const opened = await openUpstream(adapter, request, { headersTimeoutMs: config.upstreamHeadersTimeoutMs, signal })
      const stream = await awaitFirstEvent(opened, { timeoutMs: config.upstreamIdleTimeoutMs, signal })
      background(breaker.succeeded())
      return keySecret === undefined ? { stream } : { stream, keySecret }
    } catch (error) {
      if (!(error instanceof GatewayError) || !error.retryable || signal.aborted) throw error
      const retryAfter = error.options.retryAfter
      // A pool's rate limit is the key's, not the upstream's: the key rests, the circuit is untouched.
      const rested = error.status === 429 && keySecret !== undefined && keys.length > 1
      if (rested) restKey(name, keySecret, retryAfterMs(retryAfter) ?? keyRestMsOf(model))
      else background(breaker.failed(Date.now()))
      last = error
      if (retry >= model.retries) throw error
      const delay = rested && hasAwakeKey(name, keys) ? 0 : retryDelayMs(retry, retryAfter, model.max_retry_after_ms)
      // The upstream asks for a longer rest than we would wait: the fallbacks may answer now.
      if (delay === undefined) throw error
      // The key's secret name (never the key), so an operator sees which of a pool is limited.
      log.warn('upstream failed, retrying', {
        model: name,
        key: keySecret,
        code: error.code,
        attempt: tally.attempts,
        delayMs: delay,
      })
      await sleep(delay, signal).catch(() => {
        throw clientClosed()
      })
    }
  }
}

/** A model skipped because its circuit is open: retryable, so the fallbacks are tried. */
function circuitOpen(name: string): GatewayError {
  log.warn('circuit open, skipping the model', { model: name })
  return new GatewayError(503, 'upstream_unavailable', 'The model provider is failing; the gateway is letting it rest.')
}
