/** Issue 26's figure: what one retried 429 costs the time to first token. */
import { ask } from './client.ts'
import type { Contender } from './contenders.ts'
import type { Served } from './served.ts'
import type { Size } from './size.ts'
import { percentile } from './stats.ts'
import { expectedText } from './upstream.ts'

/**
 * `size.replays` pairs of one-token answers, each timed from the request to its first text
 * event's bytes: a healthy request, and one the upstream first refuses with a 429 and
 * `Retry-After: 0` (`once429:`), which the gateway retries before the client has seen anything
 * (checked by `X-Gateway-Attempts: 2`). The difference is the retry's price: one more upstream
 * round trip, and the gateway's bookkeeping around it.
 */
export async function measureRetry(contender: Contender, served: Served, size: Size) {
  const healthy: number[] = []
  const retried: number[] = []
  for (let i = 0; i < size.replays; i++) {
    healthy.push(await firstToken(contender, served, 'burst:1', '1'))
    retried.push(await firstToken(contender, served, `once429:1:${crypto.randomUUID()}`, '2'))
  }
  return {
    healthyFirstTokenP50: percentile(healthy, 0.5),
    retriedFirstTokenP50: percentile(retried, 0.5),
    retriedFirstTokenP99: percentile(retried, 0.99),
  }
}

async function firstToken(contender: Contender, served: Served, message: string, attempts: string): Promise<number> {
  const started = performance.now()
  let firstTokenMs = -1
  let seen = ''
  const answer = await ask(served.url, message, {
    ...contender.request,
    headers: { ...contender.request?.headers, ...served.headers },
    onChunk(text) {
      if (firstTokenMs >= 0) return
      seen += text
      // The token itself (`w0 `), not the `start` event before it.
      if (seen.includes(expectedText(1))) firstTokenMs = performance.now() - started
    },
  })
  if (answer.headers['x-gateway-attempts'] !== attempts) {
    throw new Error(`expected ${attempts} attempts, got ${answer.headers['x-gateway-attempts']}`)
  }
  if (contender.read(answer.body).text !== expectedText(1)) throw new Error('the retried answer was wrong')
  return firstTokenMs
}
