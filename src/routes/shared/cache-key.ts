import type { Admission } from '../../access/admission'
import type { GatewayConfig } from '../../config/load'

/**
 * The response cache's key for an admitted request (docs/cache.md): SHA-256, in hex, of a
 * canonical JSON (keys sorted at every depth) of everything that decides the answer and who may
 * read it:
 * - the request as admission made it, which is what the upstream is sent: model, messages,
 *   tools, every setting, `max_tokens` after the model's ceiling and the caller's budget;
 * - the model's whole configuration (its upstream, its fallbacks, its adapter's settings): an
 *   operator who changes it changes the answers, so the old ones are not served;
 * - the fallbacks this caller may use;
 * - the route, whose answers carry ids of its own kind (`chatcmpl-`, `resp_`, `msg_`);
 * - the scope: the caller's principal id, or `shared` for a model whose cache is shared.
 * Only the hash is used (as the name of the answer's object); the request is not stored beside it.
 */
export async function cacheKey(
  config: GatewayConfig,
  { request, fallbacks }: Admission,
  route: string,
  scope: string,
): Promise<string> {
  const canonical = canonicalJson({ request, model: config.models[request.model], fallbacks, route, scope })
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical))
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('')
}

/** JSON with every object's keys in order, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return item
    const sorted: Record<string, unknown> = {}
    for (const key of Object.keys(item).sort()) sorted[key] = (item as Record<string, unknown>)[key]
    return sorted
  })
}
