import type { Spread } from './stats.ts'

/** Every figure the benchmark reports for a contender; lower is better for each. */
export interface Figures {
  /** CPU per 1,000 tokens: the contender itself (a Worker's workerd process, a peer's process tree). */
  cpuPer1k: number
  /** CPU per 1,000 tokens of `wrangler dev`'s entry proxy in front of a Worker (none for a peer). */
  proxyCpuPer1k: number
  burstMs: number
  latencyP50: number
  latencyP99: number
  memoryPerStreamKiB: number
  bundleGzipKiB: number
  /** Resumable streams only: reading a finished answer back from its start. */
  replayFirstEventP99: number
  replayWholeP99: number
  /** Resumable streams only: SQLite rows written per 1,000 tokens, as the object counted them. */
  rowsWrittenPer1k: number
  /** The same, for an answer paced as a typical model writes it: 50 tokens a second. */
  rowsWrittenPer1kAt50: number
  /** Responses only: a stored response replayed with `starting_after` its last text delta but one. */
  replayAfterFirstEventP99: number
  /** The response cache only: a cached answer asked for again (a hit), to its first event and to its end. */
  cacheHitFirstEventP50: number
  cacheHitFirstEventP99: number
  cacheHitWholeP50: number
  cacheHitWholeP99: number
  /** Retries only: time to first token, healthy, and after one 429 with `Retry-After: 0`. */
  healthyFirstTokenP50: number
  retriedFirstTokenP50: number
  retriedFirstTokenP99: number
}
export type Figure = keyof Figures

/** A contender's figures over a run: one value per round. */
export type Samples = Partial<Record<Figure, number[]>>

export function addRound(samples: Samples, round: Partial<Figures>): void {
  for (const [figure, value] of Object.entries(round) as Array<[Figure, number | undefined]>) {
    if (value !== undefined) (samples[figure] ??= []).push(value)
  }
}

/** A contender's figures summarized: each figure's median and range over the rounds. */
export type Summary = Partial<Record<Figure, Spread>>
