import type { GatewayConfig } from '../config/load'
import type { AnswerSummary, CacheStatus } from '../events/answer-summary'
import { idTag } from '../log'
import { answerTokens, costUsd, type AnswerTokens } from './cost'

/**
 * One answer in the usage ledger: who asked, which model answered, how it ended, what it used
 * and cost, and how long it took. Never what was said. The shape of a row of `usage_records`
 * (migrations/) and of a `USAGE_QUEUE` message.
 */
export interface UsageRecord {
  /** Unique per answer: the queue delivers at least once, and a repeated record is ignored. */
  id: string
  /** When the answer ended (epoch ms). */
  ts: number
  /** The route that served it (`/api/chat`, `/v1/chat/completions`, ...). */
  route: string
  /** The response's HTTP status: 200 for an answer that streamed, the error's for one refused before it began. */
  status: number
  principalKind: 'key' | 'jwt' | 'anonymous'
  /** A key's name, a token's subject, or `anonymous` (never an IP or a credential). */
  principal: string
  /** The model the request named. */
  model: string
  /** The model that answered: `model`, or the fallback that stood in for it. */
  upstream: string
  outcome: AnswerSummary['outcome']
  finishReason: string | null
  errorCode: string | null
  promptTokens: number
  /** Everything generated, reasoning included. */
  completionTokens: number
  reasoningTokens: number
  /**
   * The parts of `promptTokens` read from and written to the provider's prompt cache. Absent from
   * records queued before the columns existed; the ledger reads those as 0.
   */
  cacheReadTokens?: number
  cacheWriteTokens?: number
  estimated: boolean
  costUsd: number
  /** Time to the first text or tool call; null when none came. */
  ttftMs: number | null
  durationMs: number
  /**
   * A stored answer's tag (`idTag` of its stream id: `/api/streams`, a stored Responses response,
   * useChat with resume), as the log has it; null for an answer sent as it was made. Never the id,
   * which reads and stops the answer: the ledger is read by more people, and kept far longer, than
   * an answer lives. The field keeps its name so that records already queued still validate.
   */
  streamId: string | null
  /**
   * Upstream requests the answer took, across retries and fallbacks: 1 on the happy path, 0 for
   * one refused before any request went (every model's circuit open). Absent from records queued
   * before the column existed; the ledger reads those as 1.
   */
  attempts?: number
  /**
   * How often the answer was continued after its upstream died mid-stream (`continue_on_failure`);
   * absent from records queued before the column existed (read as 0).
   */
  continued?: number
  /** What the response cache did (docs/cache.md); null for a model without one. */
  cacheStatus: CacheStatus | null
  /** What a cache hit or join saved: the cost of the answer it was served from; 0 otherwise. */
  savedUsd: number
}

/** What the place where an answer ends knows about it. */
export interface EndedAnswer {
  route: string
  /** 200 unless every upstream refused before the answer began (then the error's status). */
  status?: number
  principal: { kind: UsageRecord['principalKind']; name: string }
  model: string
  upstream: string
  summary: AnswerSummary
  /** Admission's estimate of the prompt, used when the upstream reports no usage. */
  estimatedPromptTokens: number
  streamId?: string
  /** Request fields the surface's translation dropped: named in the log line, not kept in the ledger. */
  ignoredFields?: string[]
  attempts?: number
  /** The name (never the value) of the secret whose key served it: logged, not kept in the ledger. */
  keySecret?: string
  /** The continuations that took over mid-answer (`OpenedAnswer.continued`): logged, counted in `attempts`. */
  continued?: ReadonlyArray<{ upstream: string; keySecret?: string }>
  cache?: CacheStatus
  /** The answer a hit or join was served from, priced as it was: what it saved. */
  saved?: SavedAnswer
}

/** The answer a cache hit or join was served from, as its own record was priced. */
export interface SavedAnswer {
  upstream: string
  summary: AnswerSummary
  estimatedPromptTokens: number
}

/**
 * The ledger's record of an ended answer, priced by the model that answered. `tokens` is what
 * `endAnswer` also charged the budget; by default the same estimate made here.
 */
export function usageRecord(
  config: GatewayConfig,
  answer: EndedAnswer,
  tokens: AnswerTokens = answerTokens(answer.summary, answer.estimatedPromptTokens),
  now = Date.now(),
): UsageRecord {
  const { summary } = answer
  return {
    id: crypto.randomUUID(),
    ts: now,
    route: answer.route,
    status: answer.status ?? 200,
    principalKind: answer.principal.kind,
    principal: answer.principal.name,
    model: answer.model,
    upstream: answer.upstream,
    outcome: summary.outcome,
    finishReason: summary.finishReason ?? null,
    errorCode: summary.errorCode ?? null,
    promptTokens: tokens.prompt,
    completionTokens: tokens.completion,
    reasoningTokens: tokens.reasoning,
    cacheReadTokens: tokens.cacheRead,
    cacheWriteTokens: tokens.cacheWrite,
    estimated: tokens.estimated,
    costUsd: costUsd(config.models[answer.upstream]?.price, tokens),
    ttftMs: summary.firstTextMs ?? null,
    durationMs: summary.durationMs,
    streamId: answer.streamId === undefined ? null : idTag(answer.streamId),
    attempts: answer.attempts ?? 1,
    continued: answer.continued?.length ?? 0,
    cacheStatus: answer.cache ?? null,
    savedUsd: savedUsd(config, answer.saved),
  }
}

/** What serving a saved answer again saved: that answer's cost, priced as its own record was. */
function savedUsd(config: GatewayConfig, saved: SavedAnswer | undefined): number {
  if (!saved) return 0
  return costUsd(config.models[saved.upstream]?.price, answerTokens(saved.summary, saved.estimatedPromptTokens))
}
