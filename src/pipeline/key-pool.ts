/**
 * Which of a model's API keys (secret names) serves the next attempt. Requests take the keys in
 * turn; a key the upstream answered 429 rests until its `Retry-After` (or the model's
 * `key_rest_ms`) has passed, while the others serve.
 *
 * The turn and the rests live in this isolate's memory: every isolate learns a key's 429 for
 * itself, at the cost of one 429 each, which the retry absorbs (the next attempt takes another
 * key at once). Sharing them would put a round trip on every request for little gain: a rate
 * limit is the upstream's to enforce, and it answers quickly.
 */
interface Pool {
  next: number
  restingUntil: Map<string, number>
}

const pools = new Map<string, Pool>()

function poolOf(model: string): Pool {
  let pool = pools.get(model)
  if (!pool) pools.set(model, (pool = { next: 0, restingUntil: new Map() }))
  return pool
}

/**
 * The key to use now: the next in turn that is not resting; when all rest, the one that wakes
 * first (the upstream may have room before we thought; a retry that fails costs one 429).
 * Undefined for a model with no keys.
 */
export function pickKey(model: string, keys: readonly string[], now = Date.now()): string | undefined {
  if (keys.length <= 1) return keys[0]
  const pool = poolOf(model)
  let soonest: string | undefined
  for (let step = 0; step < keys.length; step++) {
    const key = keys[(pool.next + step) % keys.length]!
    const until = pool.restingUntil.get(key) ?? 0
    if (until <= now) {
      pool.next = (pool.next + step + 1) % keys.length
      return key
    }
    if (soonest === undefined || until < pool.restingUntil.get(soonest)!) soonest = key
  }
  return soonest
}

/** The upstream answered 429 to `key`: it rests for `ms` while the model's other keys serve. */
export function restKey(model: string, key: string, ms: number, now = Date.now()): void {
  poolOf(model).restingUntil.set(key, now + ms)
}

/** Whether any of the model's keys is not resting now. */
export function hasAwakeKey(model: string, keys: readonly string[], now = Date.now()): boolean {
  const resting = pools.get(model)?.restingUntil
  return keys.some((key) => (resting?.get(key) ?? 0) <= now)
}
