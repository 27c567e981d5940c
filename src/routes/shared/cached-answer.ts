import type { Context } from 'hono'
import type { Admission } from '../../access/admission'
import { releaseAnswer } from '../../access/leases'
import type { AppEnv } from '../../app-env'
import { GatewayError } from '../../errors'
import type { FormatChoice } from '../../formats'
import type { CachedResult } from '../../streams/answer-stream'
import { recordRefusal } from './answer'
import { inBackground } from './background'
import { cacheKey } from './cache-key'
import { answerStream, readOptions } from './stored-answer'

/**
 * How long a cached answer runs on once nobody reads it, when `STREAM_ABANDON_MS` does not say:
 * long enough for a client whose connection dropped to ask again and join it, short enough that
 * leaving still stops the bill.
 */
const CACHE_ABANDON_MS = 1000

/**
 * The response cache (docs/cache.md) in front of an admitted answer. For a model with
 * `cache_ttl_s`, the answer is a stored answer in a Durable Object named by the request's cache
 * key (`cache-key.ts`), which an identical request finds: it joins the answer while it runs, reads
 * it again once it is complete (see `AnswerStream.cached`). Returns the answer's body in `format`;
 * null when the caller should answer as without a cache: the model has none, the request said
 * `Cache-Control: no-store` (`BYPASS`), or its entry is busy (`MISS`, uncached: a `no-cache`
 * request while an identical answer runs, or a failed or expired answer someone still reads).
 * Sets `cacheStatus` (the `X-Gateway-Cache` header and the ledger's cache status). A refusal
 * before the answer began is recorded and thrown, as for any answer.
 */
export async function answerFromCache(
  c: Context<AppEnv>,
  admission: Admission,
  format: FormatChoice,
  startId: string,
): Promise<ReadableStream<Uint8Array> | null> {
  const { config } = c.var
  const model = config.models[admission.request.model]
  if (!model?.cache_ttl_s) return null
  const directives = cacheControl(c.req.header('Cache-Control'))
  if (directives.has('no-store')) {
    c.set('cacheStatus', 'BYPASS')
    return null
  }
  const startedAt = Date.now()
  const scope = model.cache_scope === 'shared' ? 'shared' : admission.lease.principal.id
  const key = await cacheKey(config, admission, c.req.path, scope)
  const settings = {
    id: startId,
    path: c.req.path,
    config,
    retentionMs: model.cache_ttl_s * 1000,
    abandonMs: config.streamAbandonMs ?? CACHE_ABANDON_MS,
    maxBytes: config.streamMaxBytes,
    flushMs: config.streamFlushMs,
    lease: admission.lease,
    fallbacks: admission.fallbacks,
    owner: scope,
  }
  const options = readOptions(c, format, { owner: scope })
  let result: CachedResult
  try {
    result = await answerStream(c, 'cache', key).cached(
      admission.request,
      settings,
      options,
      !directives.has('no-cache'),
    )
  } catch (error) {
    // The object failed rather than answered: the caller's slot and reservation go back now.
    inBackground(c, releaseAnswer(c.env, admission.lease))
    throw error
  }
  if (result.ok === 'busy') {
    c.set('cacheStatus', 'MISS')
    return null
  }
  if (!result.ok) {
    const { status, code, message, options } = result.refusal
    const error = new GatewayError(status, code, message, options)
    recordRefusal(c, admission, error, startedAt)
    throw error
  }
  c.set('cacheStatus', result.cache)
  // Found a moment ago, and the object keeps what a reader reads: a 200 unless a bug says otherwise.
  if (result.read.status !== 200) {
    throw new GatewayError(500, 'internal_error', 'The cached answer could not be read.', { retryable: true })
  }
  return result.read.body
}

/** The request's `Cache-Control` directives, lowercased: `no-cache`, `no-store` are the ones that count. */
function cacheControl(header: string | undefined): Set<string> {
  return new Set((header ?? '').split(',').map((directive) => directive.trim().split('=')[0]!.toLowerCase()))
}
