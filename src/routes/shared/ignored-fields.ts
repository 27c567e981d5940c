import type { Context, MiddlewareHandler } from 'hono'
import type { AppEnv } from '../../app-env'

/** The response header that names every request field the gateway dropped (see `../../dialects/fields.ts`). */
export const IGNORED_HEADER = 'X-Gateway-Ignored'

/**
 * Notes fields a translation dropped, for the response's `X-Gateway-Ignored` header (see
 * `reportIgnored`) and the answer's log line (`endAnswer`'s `ignoredFields`): nothing is dropped silently.
 */
export function noteIgnored(c: Context<AppEnv>, names: readonly string[]): void {
  if (!names.length) return
  const all = [...new Set([...(c.var.ignoredFields ?? []), ...names.map(headerSafe)])]
  c.set(
    'ignoredFields',
    all.length > MAX_NAMED ? [...all.slice(0, MAX_NAMED), `and ${all.length - MAX_NAMED} more`] : all,
  )
}

/** Names beyond this many are counted, not listed: a body of ten thousand unknown keys makes no huge header. */
const MAX_NAMED = 32

/**
 * A caller's field name as a header can carry it: printable ASCII but the list's separator,
 * cut at 64 characters. A key is any JSON string, and a control character or a non-Latin-1 one
 * in a header value would make `Headers.set` throw, turning an answer into a 500.
 */
function headerSafe(name: string): string {
  const safe = name.replace(/[^\x21-\x2b\x2d-\x7e]/g, '?')
  return safe.length > 64 ? `${safe.slice(0, 63)}~` : safe || '?'
}

/**
 * Names the dropped fields in a header on the response, whatever it is (an answer, a stream, or
 * a refusal for another reason), each name once.
 *
 * @example
 * ```ts
 * app.use('/v1/*', reportIgnored())
 * ```
 */
export function reportIgnored(): MiddlewareHandler<AppEnv> {
  return async function reportIgnored(c, next) {
    await next()
    const names = c.var.ignoredFields
    if (names?.length) c.res.headers.set(IGNORED_HEADER, names.join(', '))
  }
}
