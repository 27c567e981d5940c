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

/** What an ended answer is charged against its lease. */
export interface Settlement {
  tokens: number
  /** The tokens are the gateway's estimate: the upstream reported no usage. */
  estimated: boolean
  /** The answer did not finish (stopped, failed, cut). */
  partial: boolean
}

/**
 * Charges an ended answer's tokens to its principal and frees its stream slot. Callable from
 * anywhere that has `env`, long after the request that admitted the answer; never throws (a
 * failure is logged, and the lease expires on its own). An answer's end goes through `endAnswer`
 * (usage/end-answer.ts), which charges here the same tokens it records in the ledger.
 */
export async function settleLease(env: Env, lease: Lease, settlement: Settlement): Promise<void> {
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
 * Frees the slot of an admitted answer that never started and has no end to record (its
 * object failed to begin it, or the call never reached the object): nothing to charge.
 */
export function releaseAnswer(env: Env, lease: Lease): Promise<void> {
  return settleLease(env, lease, { tokens: 0, estimated: false, partial: true })
}

/**
 * The object that keeps a principal's budget and open streams. The config check refuses limits
 * without its binding, so a missing one is a broken deployment.
 */
export function limitsOf(env: Env, principalId: string) {
  const namespace = durableObjects(env, 'PRINCIPAL_LIMITS')
  return namespace.get(namespace.idFromName(principalId))
}
