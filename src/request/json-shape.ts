import { clipped, type ErrorIssue } from '../errors'

/** A JSON object (not an array, not null): what a request body or one of its parts must be to be read by field. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * A caller's `type` or `role` as a refusal names it: a string, cut short, or "untyped". Never
 * `String(value)`: an object with a key named `toString` that is not a function makes that throw,
 * and a refusal became a 500 (`{"role":{"toString":1}}` on /v1/responses, found by the fuzz test).
 */
export function typeName(value: unknown): string {
  return typeof value === 'string' ? clipped(value, 64) : 'untyped'
}

/**
 * An issue for a list longer than `max`, found before anything reads its items (a body of 127,000
 * items is one issue at the list); undefined when it is not a list or not too long.
 */
export function overLength(list: unknown, max: number, path: string): ErrorIssue | undefined {
  if (!Array.isArray(list) || list.length <= max) return undefined
  return { path, message: `has ${list.length} items; at most ${max} are allowed` }
}
