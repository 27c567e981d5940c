/**
 * The benchmark's table: every figure as the median of its rounds with their range, its ratio to
 * the floor's (or "≈ floor" when the run cannot tell them apart), and under it each figure's
 * contenders in order, with the ties the spreads allow.
 */
import type { Figure, Summary } from './figures.ts'
import type { Size } from './size.ts'
import { ranking, tie, type Spread } from './stats.ts'

function rows(size: Size): Array<[Figure, string]> {
  return [
    ['cpuPer1k', 'CPU per 1k tokens, the contender (ms)'],
    ['proxyCpuPer1k', 'CPU per 1k tokens, entry proxy (ms)'],
    ['burstMs', `Burst: ${size.tokens} tokens, wall (ms)`],
    ['latencyP50', 'Added latency per event p50 (ms)'],
    ['latencyP99', 'Added latency per event p99 (ms)'],
    ['memoryPerStreamKiB', `Memory per open stream, ${size.streams} idle (KiB)`],
    ['bundleGzipKiB', 'Bundle, gzipped (KiB)'],
    ['replayFirstEventP99', `Replay of a ${size.tokens}-token answer: first event p99 (ms)`],
    ['replayWholeP99', `Replay of a ${size.tokens}-token answer: whole p99 (ms)`],
    ['rowsWrittenPer1k', 'Storage rows written per 1k tokens, burst'],
    ['rowsWrittenPer1kAt50', 'Storage rows written per 1k tokens, 50 tokens/s'],
    [
      'replayAfterFirstEventP99',
      `Replay of a ${size.tokens}-token response from starting_after (its last delta): first event p99 (ms)`,
    ],
    ['cacheHitFirstEventP50', `Cache hit on a ${size.tokens}-token answer: first event p50 (ms)`],
    ['cacheHitFirstEventP99', `Cache hit on a ${size.tokens}-token answer: first event p99 (ms)`],
    ['cacheHitWholeP50', `Cache hit on a ${size.tokens}-token answer: whole p50 (ms)`],
    ['cacheHitWholeP99', `Cache hit on a ${size.tokens}-token answer: whole p99 (ms)`],
    ['healthyFirstTokenP50', 'Time to first token, healthy upstream p50 (ms)'],
    ['retriedFirstTokenP50', 'Time to first token after one 429 (Retry-After: 0) p50 (ms)'],
    ['retriedFirstTokenP99', 'Time to first token after one 429 (Retry-After: 0) p99 (ms)'],
  ]
}

const number = (value: number) => value.toFixed(value < 10 ? 2 : 0)

function cell(figure: Spread | undefined, floor: Spread | undefined, isFloor: boolean): string {
  if (!figure) return '–'
  const range = figure.min === figure.max ? '' : ` (${number(figure.min)}–${number(figure.max)})`
  let ratio = ''
  if (floor && floor.median > 0 && !isFloor) {
    ratio = tie(figure, floor) ? ' ≈ floor' : ` ${(figure.median / floor.median).toFixed(2)}×`
  }
  return `${number(figure.median)}${range}${ratio}`
}

/** `summaries`: each contender's figures, or why it has none. */
export function figuresTable(names: string[], summaries: Map<string, Summary | string>, size: Size): string {
  const measured = names.filter((n) => typeof summaries.get(n) === 'object')
  const of = (name: string) => summaries.get(name) as Summary
  const floor = measured.includes('floor') ? of('floor') : undefined
  // Only the figures some contender has (a resumable stream's replay needs ours-resumable in the run).
  const shown = rows(size).filter(([figure]) => measured.some((n) => of(n)[figure]))
  const table = [
    `| figure | ${names.join(' | ')} |`,
    `| --- | ${names.map(() => '---').join(' | ')} |`,
    ...shown.map(
      ([figure, label]) =>
        `| ${label} | ${names.map((n) => (measured.includes(n) ? cell(of(n)[figure], floor?.[figure], n === 'floor') : 'n/a')).join(' | ')} |`,
    ),
  ]
  const orders = shown.flatMap(([figure, label]) => {
    const present = measured.flatMap((n) => (of(n)[figure] ? [[n, of(n)[figure]!] as [string, Spread]] : []))
    return present.length > 1 ? [`- ${label}: ${ranking(present)}`] : []
  })
  const failures = names.flatMap((n) =>
    typeof summaries.get(n) === 'string' ? [`- ${n}: no figures, ${summaries.get(n)}`] : [],
  )
  return [
    ...table,
    '',
    "Each figure's contenders, lowest median first. `≈` between neighbours: a tie, the run cannot tell them apart " +
      '(the spread, max - min, of one of the two is at least the difference of their medians); `<`: told apart.',
    '',
    ...orders,
    ...(failures.length ? ['', ...failures] : []),
  ].join('\n')
}
