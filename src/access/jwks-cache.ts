import { GatewayError } from '../errors'
import { log } from '../log'

export interface JwksCacheOptions {
  /** How long a fetched key set is used before it is fetched again. */
  maxAgeMs?: number
  /**
   * The least time between two fetches. A token with an unknown `kid` triggers a fetch (the
   * provider may have rotated its keys), but a stream of such tokens must not become a stream of
   * fetches: within the cooldown, an unknown `kid` is simply unknown.
   */
  cooldownMs?: number
  fetch?: typeof fetch
  now?: () => number
}

/** One public key of a JWKS. */
export type PublicJwk = JsonWebKey & { kid?: string; use?: string }

const FETCH_TIMEOUT_MS = 5_000
/**
 * At most one JWKS fetch per isolate this often. A new key a provider starts signing with
 * within this time of our last fetch is refused until it passes; any longer, and a stream of
 * made-up `kid`s could make the gateway fetch the JWKS on every request.
 */
export const JWKS_COOLDOWN_MS = 5_000

/**
 * The identity provider's public keys (a JWKS), fetched once and kept in the isolate: verifying a
 * token costs no request. Refetched when stale or, at most once per cooldown, when a token names
 * a key it does not hold. If a refresh fails, the keys already held are kept; if there are none,
 * the caller gets a 503, since the token may well be valid.
 */
export class JwksCache {
  readonly #url: string
  readonly #maxAgeMs: number
  readonly #cooldownMs: number
  readonly #fetch: typeof fetch
  readonly #now: () => number
  #keys = new Map<string, PublicJwk>()
  #fetchedAt = -Infinity
  #attemptedAt = -Infinity
  #refreshing: Promise<void> | undefined

  constructor(url: string, options: JwksCacheOptions = {}) {
    this.#url = url
    this.#maxAgeMs = options.maxAgeMs ?? 10 * 60_000
    this.#cooldownMs = options.cooldownMs ?? JWKS_COOLDOWN_MS
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init))
    this.#now = options.now ?? Date.now
  }

  /** The key with this `kid`, or undefined when the provider does not publish one. */
  async key(kid: string): Promise<PublicJwk | undefined> {
    const now = this.#now()
    const stale = now - this.#fetchedAt >= this.#maxAgeMs
    const unknown = !this.#keys.has(kid)
    if ((stale || unknown) && now - this.#attemptedAt >= this.#cooldownMs) await this.#refresh()
    else if (unknown && this.#refreshing) await this.#refreshing // it may bring this kid
    if (!this.#keys.size && this.#fetchedAt === -Infinity) {
      throw new GatewayError(
        503,
        'auth_unavailable',
        'The gateway cannot verify tokens right now; try again shortly.',
        {
          retryable: true,
          retryAfter: String(Math.ceil(this.#cooldownMs / 1000)),
        },
      )
    }
    return this.#keys.get(kid)
  }

  /** One fetch at a time: concurrent requests wait for the same one. */
  #refresh(): Promise<void> {
    this.#refreshing ??= this.#load().finally(() => (this.#refreshing = undefined))
    return this.#refreshing
  }

  async #load(): Promise<void> {
    this.#attemptedAt = this.#now()
    try {
      const response = await this.#fetch(this.#url, {
        headers: { Accept: 'application/json' },
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      })
      if (!response.ok) throw new Error(`status ${response.status}`)
      const body = (await response.json()) as { keys?: unknown }
      if (!Array.isArray(body.keys)) throw new Error('no "keys" array')
      const keys = new Map<string, PublicJwk>()
      for (const key of body.keys as PublicJwk[]) {
        if (key && typeof key.kid === 'string' && (key.use === undefined || key.use === 'sig')) keys.set(key.kid, key)
      }
      this.#keys = keys
      this.#fetchedAt = this.#now()
    } catch (error) {
      // Keep whatever keys we had: a provider's hiccup must not lock every signed-in user out.
      log.error('JWKS fetch failed', { url: this.#url, error: String(error) })
    }
  }
}

const caches = new Map<string, JwksCache>()

/** The isolate's cache for this JWKS URL. */
export function jwksCacheFor(url: string): JwksCache {
  let cache = caches.get(url)
  if (!cache) caches.set(url, (cache = new JwksCache(url)))
  return cache
}
