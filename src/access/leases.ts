import { streamedChars, type AnswerSummary } from '../events/answer-summary'
import { durableObjects } from '../config/bindings'
import { log } from '../log'
import type { Principal } from './principal'

/**
 * An admitted answer's claim on its principal's limits: plain data, so it can travel with the
 * answer (into a Durable Object that runs it, say) and be settled from anywhere that has `env`.
 */
export interface Lease {
  leaseId: string
  principal: { id: string; kind: Principal['kind']; name: string }
  /** The model the request named (permission is checked on it, not on its fallbacks). */
  model: string
  /** Whether the principal's limits object holds this lease, and so must hear how it ended. */
  held: boolean
  /** The gateway's estimate of the prompt's tokens, used when the upstream reports no usage. */
  promptTokens: number
  reservedTokens: number
  /** After this the lease frees itself (epoch ms), whether or not it was settled. */
  expiresAt: number
}

/**
 * Records what an answer cost and frees its stream slot: the upstream's usage if it reported
 * any, else an estimate (marked as one) from the prompt and everything streamed, for finished and
 * partial answers alike. Callable from anywhere that has `env`, long after the request that
 * admitted the answer; never throws (a failure is logged, and the lease expires on its own).
 */
export async function settleAnswer(env: Env, lease: Lease, summary: AnswerSummary): Promise<void> {
  const { tokens, estimated } = answerTokens(lease, summary)
  await settle(env, lease, { tokens, estimated, partial: summary.outcome !== 'done' })
}

/** Frees the slot of an admitted answer that never started (every upstream refused): nothing to charge. */
export async function releaseAnswer(env: Env, lease: Lease): Promise<void> {
  await settle(env, lease, { tokens: 0, estimated: false, partial: true })
}

/** What an answer cost, in tokens: the upstream's count, or the gateway's estimate. */
export function answerTokens(lease: Lease, summary: AnswerSummary): { tokens: number; estimated: boolean } {
  const usage = summary.usage
  if (usage) return { tokens: usage.total_tokens || usage.prompt_tokens + usage.completion_tokens, estimated: false }
  // About four characters a token for English text: rough, and marked as an estimate. Everything
  // streamed counts: reasoning and tool calls are output the upstream bills, seen or not.
  return { tokens: lease.promptTokens + Math.ceil(streamedChars(summary) / 4), estimated: true }
}

async function settle(env: Env, lease: Lease, settlement: { tokens: number; estimated: boolean; partial: boolean }) {
  if (!lease.held) return
  try {
    await limitsOf(env, lease.principal.id).settle({ leaseId: lease.leaseId, ...settlement })
  } catch (error) {
    log.error('could not settle a stream lease; it will expire on its own', {
      principal: lease.principal.name,
      error: String(error),
    })
  }
}

/**
 * The object that keeps a principal's budget and open streams. The config check refuses limits
 * without its binding, so a missing one is a broken deployment.
 */
export function limitsOf(env: Env, principalId: string) {
  const namespace = durableObjects(env, 'PRINCIPAL_LIMITS')
  return namespace.get(namespace.idFromName(principalId))
}
