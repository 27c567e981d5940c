import { settleLease, type Lease } from '../access/leases'
import type { GatewayConfig } from '../config/load'
import type { AnswerSummary, CacheStatus } from '../events/answer-summary'
import { answerTokens, type AnswerTokens } from './cost'
import { recordAnswer } from './ledger'
import type { SavedAnswer } from './record'

/** How an admitted answer ended, as the place where it ended knows it. */
export interface AnswerEnd {
  /** The route that served it (`/api/chat`, `/v1/responses`, ...). */
  route: string
  /** The model the request named. */
  model: string
  /** The model that answered: `model`, or the fallback that stood in for it. */
  upstream: string
  summary: AnswerSummary
  /** 200 unless the answer never began (then the refusal's status). */
  status?: number
  /** The stored answer's id, for one kept in a Durable Object. */
  streamId?: string
  /** Request fields the surface's translation dropped, for the log line (`X-Gateway-Ignored`). */
  ignoredFields?: string[]
  /** Upstream requests the answer took, retries and fallbacks included (`OpenedAnswer.attempts`). */
  attempts?: number
  /** The name of the secret whose key served it (`OpenedAnswer.keySecret`), for the log line. */
  keySecret?: string
  /** The continuations that took over mid-answer (`OpenedAnswer.continued`), for the log line. */
  continued?: ReadonlyArray<{ upstream: string; keySecret?: string }>
  /** What the response cache did, for a model that has one (docs/cache.md). */
  cache?: CacheStatus
  /** For a hit or a join that got the whole answer: the answer it was served from. */
  saved?: SavedAnswer
}

/** A hit or a join asked nothing of the upstream: it uses, and costs, nothing. */
const NOTHING: AnswerTokens = { prompt: 0, completion: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0, estimated: false }

/**
 * Where every admitted answer ends, however it ends (finished, stopped, failed, refused before it
 * began, cut by a restart), on every surface and in the answer's object: one token estimate
 * (`answerTokens`: the upstream's usage, else the prompt and everything streamed, reasoning
 * counted as reasoning), charged to the caller's budget and recorded in the ledger, so the two
 * never disagree. Input read from or written to the provider's prompt cache is input like any
 * other to the budget, which counts tokens, not dollars: admission reserved the whole prompt, and
 * a cache hit is the provider's to give or not; the ledger prices it at the cache prices. A cache hit or join is charged nothing, and its record says what it saved
 * (docs/cache.md). Hand the promise to `waitUntil`; it never throws.
 *
 * It lives in `usage/` because it is the one place that needs both halves: the ledger, and lease
 * accounting (`access/leases.ts`, which runs in Durable Objects and pulls in no request-time
 * code). Routes and the answer's object call it; the pipeline reports the summary through its
 * `onEnd` and knows nothing of either, and `access/` never imports `usage/`.
 *
 * `config` prices the record; without one (an interrupted answer found by an object that cannot
 * load the config) the lease is still settled and the ledger misses the answer, which is logged.
 */
export async function endAnswer(
  env: Env,
  config: GatewayConfig | undefined,
  lease: Lease,
  end: AnswerEnd,
): Promise<void> {
  const served = end.cache === 'HIT' || end.cache === 'JOINED'
  const tokens = served ? NOTHING : answerTokens(end.summary, lease.promptTokens)
  const settlement = {
    tokens: tokens.prompt + tokens.completion,
    estimated: tokens.estimated,
    partial: end.summary.outcome !== 'done',
  }
  const { kind, name } = lease.principal
  const ended = { ...end, principal: { kind, name }, estimatedPromptTokens: lease.promptTokens }
  await Promise.all([
    settleLease(env, lease, settlement),
    config ? recordAnswer(env, config, ended, tokens) : Promise.resolve(),
  ])
}
