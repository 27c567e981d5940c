/** A JSON object (not an array, not null): what a request body or one of its parts must be to be read by field. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
