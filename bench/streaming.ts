/**
 * One round of a contender's streaming figures (CPU per 1,000 tokens, burst wall time, added
 * latency per event), on a contender already running, after checking its answer is right.
 */
import { measureCacheHit } from './cache-hit.ts'
import { measureRetry } from './retry.ts'
import { ask } from './client.ts'
import type { Contender } from './contenders.ts'
import type { Figures } from './figures.ts'
import { measureResponsesReplay, measureResumable } from './resumable.ts'
import type { Served } from './served.ts'
import type { Size } from './size.ts'
import { percentile } from './stats.ts'
import { expectedText, type BenchUpstream } from './upstream.ts'

type AskOptions = NonNullable<Parameters<typeof ask>[2]>

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))

/** How long a contender is left alone before its paced answer (see `streamingRound`). */
const QUIET_MS = 5_500
/** How long a contender's work on an answer may go on after the answer's end. */
const SETTLE_MS = 300
/** When each running contender last finished answering (its check, then each round). */
const lastAnswerEnded = new WeakMap<Served, number>()

/** How to ask this contender, as it runs: its request, plus the headers the running contender needs. */
export function askOptions(contender: Contender, served: Served, more: AskOptions = {}): AskOptions {
  return {
    ...contender.request,
    ...more,
    headers: { ...contender.request?.headers, ...served.headers, ...more.headers },
  }
}

/** Correctness first: no figure for a contender that does not deliver the whole answer. Also warms it up. */
export async function checkAnswer(contender: Contender, served: Served, tokens: number): Promise<string | undefined> {
  const check = contender.read((await ask(served.url, `burst:${tokens}`, askOptions(contender, served))).body)
  lastAnswerEnded.set(served, performance.now())
  if (check.text !== expectedText(tokens) || !check.complete) {
    return `incomplete or wrong answer (${check.text.length} of ${expectedText(tokens).length} chars, complete=${check.complete})`
  }
}

export async function streamingRound(
  contender: Contender,
  served: Served,
  upstream: BenchUpstream,
  size: Size,
): Promise<Partial<Figures> | string> {
  // Added latency per event, upstream write -> client read, with the upstream pacing tokens. It
  // goes first, once nothing has run on this contender for `QUIET_MS`: under `wrangler dev` the
  // Worker stalls for 8-24 ms exactly 5 s after a request has ended (with no upstream connection
  // at all, so not its pool; a 6 s pause between answers makes it go away), so measured right
  // after the burst, every paced answer had that stall in its last second, in its p99.
  await sleep((lastAnswerEnded.get(served) ?? 0) + QUIET_MS - performance.now())
  const run = `${contender.name}-${Date.now()}`
  const readTimes: number[] = []
  let carry = ''
  const paced = await ask(
    served.url,
    `paced:${size.pacedTokens}:${size.paceMs}:${run}`,
    askOptions(contender, served, {
      onChunk(text) {
        const now = performance.now()
        const seen = carry + text
        for (const match of seen.matchAll(/w(\d+) /g)) {
          const i = Number(match[1])
          if (readTimes[i] === undefined) readTimes[i] = now
        }
        carry = seen.slice(-12)
      },
    }),
  )
  if (contender.read(paced.body).text !== expectedText(size.pacedTokens)) return 'the paced answer was wrong'
  const latencies = upstream.writeTimes.get(run)!.map((at, i) => readTimes[i]! - at)
  upstream.writeTimes.delete(run)

  // CPU per 1,000 tokens and wall time of one burst, once the paced answer's own bookkeeping (its
  // object's last write, its usage record) is done, so none of it is counted here.
  await sleep(SETTLE_MS)
  const before = served.cpuMs()
  const answer = await ask(served.url, `burst:${size.tokens}`, askOptions(contender, served))
  await sleep(50) // let the processes finish their bookkeeping before reading their clocks
  const after = served.cpuMs()
  if (contender.read(answer.body).text.length !== expectedText(size.tokens).length) return 'a burst lost text'
  const per1k = (ms: number) => (ms * 1000) / size.tokens

  const figures = {
    cpuPer1k: per1k(after.own - before.own),
    proxyCpuPer1k: after.proxy === undefined ? undefined : per1k(after.proxy - before.proxy!),
    burstMs: answer.wallMs,
    latencyP50: percentile(latencies, 0.5),
    latencyP99: percentile(latencies, 0.99),
    ...(contender.resumable &&
      (await measureResumable(contender, served, answer.headers.location as string | undefined, size))),
    ...(contender.responsesReplay && (await measureResponsesReplay(contender.responsesReplay.apiKey, served, size))),
    ...(contender.cacheHit && (await measureCacheHit(contender, served, size))),
    ...(contender.retry && (await measureRetry(contender, served, size))),
  }
  lastAnswerEnded.set(served, performance.now())
  return figures
}
