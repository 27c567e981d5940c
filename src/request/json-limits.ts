/**
 * Limits on the JSON a request carries, checked before anything else reads it.
 *
 * A body within the size limit can still nest thousands deep (`[[[[…]]]]` is two bytes a level).
 * `JSON.parse` copes, but whatever walks the value recursively later does not: structured clone
 * on the way into a Durable Object, `JSON.stringify` on the way upstream, a schema library. Each
 * would throw `RangeError: Maximum call stack size exceeded` after the answer had been admitted,
 * as a 500 that kept the caller's slot. Real requests nest a few levels (a JSON Schema for a tool
 * rarely passes ten), so the bound is far above any honest use and far below any stack.
 */
export const MAX_JSON_DEPTH = 64

/**
 * The path of the first value nested deeper than `maxDepth` (arrays and objects count a level
 * each; the body itself is level 1), or undefined when none is. Iterative, so it cannot itself
 * run out of stack, whatever it is given.
 */
export function tooDeepAt(value: unknown, maxDepth = MAX_JSON_DEPTH): string | undefined {
  const pending: Array<{ value: unknown; depth: number; path: string }> = [{ value, depth: 1, path: '' }]
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue
    if (next.depth > maxDepth) return next.path || '(body)'
    for (const [key, child] of Object.entries(next.value)) {
      pending.push({ value: child, depth: next.depth + 1, path: next.path ? `${next.path}.${key}` : key })
    }
  }
  return undefined
}

/** Characters of a JSON value once serialised: how much of it travels upstream. */
export function jsonChars(value: unknown): number {
  return JSON.stringify(value)?.length ?? 0
}
