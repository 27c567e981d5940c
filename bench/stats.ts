/** The statistics every benchmark reports: medians, percentiles, and a figure's spread over rounds. */

/** The middle value; for an even count, the mean of the two middle ones. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!

/** One figure over the rounds of a run: its median and the lowest and highest round. */
export interface Spread {
  median: number
  min: number
  max: number
}

export function spread(values: number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) }
}

/**
 * Two figures the run cannot tell apart: the spread (max - min) of either is at least the
 * difference between their medians. A ranking between them would be the machine's noise.
 */
export function tie(a: Spread, b: Spread): boolean {
  return Math.max(a.max - a.min, b.max - b.min) >= Math.abs(a.median - b.median)
}

/**
 * Names ordered by median, lowest first, each joined to the next by `≈` when the two tie and by
 * `<` when the run tells them apart: `floor < js-pump ≈ ours < naive`.
 */
export function ranking(figures: Array<[name: string, figure: Spread]>): string {
  const sorted = [...figures].sort(([, a], [, b]) => a.median - b.median)
  return sorted
    .map(([name], i) => (i === 0 ? name : `${tie(sorted[i - 1]![1], sorted[i]![1]) ? '≈' : '<'} ${name}`))
    .join(' ')
}
