/** The response cache's own figures: a cached answer asked for again, its first event and its last. */
import { ask } from './client.ts'
import type { Contender } from './contenders.ts'
import type { Served } from './served.ts'
import type { Size } from './size.ts'
import { percentile } from './stats.ts'
import { expectedText } from './upstream.ts'

/**
 * `size.replays` requests for the `size.tokens` answer the round's burst left in the cache, each
 * a hit (checked by its `X-Gateway-Cache` header), timed from the request to the first event's
 * bytes and to the end: beside `ours`'s burst, the same answer from the upstream.
 */
export async function measureCacheHit(contender: Contender, served: Served, size: Size) {
  const first: number[] = []
  const whole: number[] = []
  for (let i = 0; i < size.replays; i++) {
    const started = performance.now()
    let firstEventMs = -1
    let seen = ''
    const answer = await ask(served.url, `burst:${size.tokens}`, {
      ...contender.request,
      headers: { ...contender.request?.headers, ...served.headers },
      onChunk(text) {
        if (firstEventMs >= 0) return
        seen += text
        // The first event, not the `retry:` hint before it.
        if (/\ndata: [^\n]*\n\n/.test(seen)) firstEventMs = performance.now() - started
      },
    })
    if (answer.headers['x-gateway-cache'] !== 'HIT') throw new Error(`not a hit: ${answer.headers['x-gateway-cache']}`)
    if (contender.read(answer.body).text !== expectedText(size.tokens)) throw new Error('the hit was wrong')
    first.push(firstEventMs)
    whole.push(answer.wallMs)
  }
  return {
    cacheHitFirstEventP50: percentile(first, 0.5),
    cacheHitFirstEventP99: percentile(first, 0.99),
    cacheHitWholeP50: percentile(whole, 0.5),
    cacheHitWholeP99: percentile(whole, 0.99),
  }
}
