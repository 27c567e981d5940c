import type { Context } from 'hono'
import type { AppEnv } from '../app-env'
import type { Env, GatewayConfig, ModelConfig } from '../config'
import { GatewayError } from '../errors'
import type { StreamSummary } from '../pipeline/chat-event-stream'
import type { ChatRequest } from '../schema/chat-request'
import { principalOf, unauthorized } from './authenticate'
import { mayUse, type Principal } from './principal'
import type { AdmitResult } from './principal-limits'
import { checkRateLimit } from './rate-limit'

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

export interface Admission {
  lease: Lease
  /** The request to send: `max_tokens` lowered to the model's ceiling and to what is left of the budget. */
  request: ChatRequest
}

/**
 * Everything that decides whether an answer may start, in order: who is calling (401), whether
 * the model exists (400, listing only the models the caller may use) and is theirs to use (401
 * for an anonymous caller, 403 otherwise), the rate limit (429 `rate_limited`), the model's
 * `max_tokens` ceiling, then the principal's open streams (429 `too_many_streams`) and daily token
 * budget (429 `budget_exhausted`), checked and reserved in one step by the principal's Durable
 * Object. Call it before opening the upstream; then `settleAnswer` (or `releaseAnswer`) exactly
 * once when the answer ends. A lease that is never settled frees itself at `expiresAt`.
 */
export async function admitAnswer(c: Context<AppEnv>, request: ChatRequest): Promise<Admission> {
  const { config } = c.var
  const principal = await principalOf(c)
  const model = request.model ?? config.defaultModel
  const modelConfig = Object.hasOwn(config.models, model) ? config.models[model] : undefined
  if (!modelConfig) throw unknownModel(config, principal, model)
  if (!mayUse(principal, model)) {
    if (principal.kind === 'anonymous') throw unauthorized()
    throw new GatewayError(403, 'model_not_allowed', `Your credentials do not allow model "${model}".`, {
      retryable: false,
    })
  }
  await checkRateLimit(c.env, principal)

  const promptTokens = estimatePromptTokens(request)
  let maxTokens = withinCeiling(request.max_tokens, modelConfig)
  const { dailyTokens, concurrentStreams } = principal.policy
  const lease: Lease = {
    leaseId: crypto.randomUUID(),
    principal: { id: principal.id, kind: principal.kind, name: principal.name },
    model,
    held: false,
    promptTokens,
    reservedTokens: 0,
    expiresAt: Date.now() + leaseTtlMs(config, modelConfig),
  }
  if (dailyTokens !== undefined || concurrentStreams !== undefined) {
    let result: AdmitResult
    try {
      result = await limitsOf(c.env, principal.id).admit({
        leaseId: lease.leaseId,
        dailyTokens,
        concurrentStreams,
        promptTokens,
        maxTokens,
        ttlMs: lease.expiresAt - Date.now(),
      })
    } catch (error) {
      if (error instanceof GatewayError) throw error
      // Fail closed: without its object, nothing says the principal has budget or a free slot left.
      console.error(JSON.stringify({ level: 'error', msg: 'limits object failed', error: String(error) }))
      throw new GatewayError(503, 'limits_unavailable', 'The gateway cannot check your limits right now.', {
        retryable: true,
      })
    }
    if (!result.ok) throw limitRefusal(result)
    maxTokens = result.maxTokens
    Object.assign(lease, { held: true, reservedTokens: result.reservedTokens, expiresAt: result.expiresAt })
  }
  return { lease, request: maxTokens === request.max_tokens ? request : { ...request, max_tokens: maxTokens } }
}

/**
 * Records what an answer cost and frees its stream slot: the upstream's usage if it reported
 * any, else an estimate (marked as one) from the prompt and the text sent, for finished and
 * partial answers alike. Callable from anywhere that has `env`, long after the request that
 * admitted the answer; never throws (a failure is logged, and the lease expires on its own).
 */
export async function settleAnswer(env: Env, lease: Lease, summary: StreamSummary): Promise<void> {
  const { tokens, estimated } = answerTokens(lease, summary)
  await settle(env, lease, { tokens, estimated, partial: summary.outcome !== 'done' })
}

/** Frees the slot of an admitted answer that never started (every upstream refused): nothing to charge. */
export async function releaseAnswer(env: Env, lease: Lease): Promise<void> {
  await settle(env, lease, { tokens: 0, estimated: false, partial: true })
}

/** What an answer cost, in tokens: the upstream's count, or the gateway's estimate. */
export function answerTokens(lease: Lease, summary: StreamSummary): { tokens: number; estimated: boolean } {
  const usage = summary.usage
  if (usage) return { tokens: usage.total_tokens || usage.prompt_tokens + usage.completion_tokens, estimated: false }
  // About four characters a token for English text: rough, and marked as an estimate.
  return { tokens: lease.promptTokens + Math.ceil((summary.textChars ?? 0) / 4), estimated: true }
}

async function settle(env: Env, lease: Lease, settlement: { tokens: number; estimated: boolean; partial: boolean }) {
  if (!lease.held) return
  try {
    await limitsOf(env, lease.principal.id).settle({ leaseId: lease.leaseId, ...settlement })
  } catch (error) {
    console.error(
      JSON.stringify({
        level: 'error',
        msg: 'could not settle a stream lease; it will expire on its own',
        principal: lease.principal.name,
        error: String(error),
      }),
    )
  }
}

function limitsOf(env: Env, principalId: string) {
  const namespace = env.PRINCIPAL_LIMITS
  if (!namespace) {
    // The config check refuses limits without the binding, so this is a broken deployment.
    throw new GatewayError(500, 'config_invalid', "The gateway's configuration is invalid; its log names the problem.")
  }
  return namespace.get(namespace.idFromName(principalId))
}

function limitRefusal(result: Extract<AdmitResult, { ok: false }>): GatewayError {
  if (result.code === 'too_many_streams') {
    return new GatewayError(429, 'too_many_streams', 'Too many answers streaming at once for these credentials.', {
      retryable: true,
    })
  }
  return new GatewayError(429, 'budget_exhausted', "Today's token budget for these credentials is spent.", {
    retryable: true,
    retryAfter: String(result.retryAfterSeconds),
    // Waiting hours is not a retry: tells the OpenAI SDKs to raise at once instead of sleeping.
    headers: { 'x-should-retry': 'false' },
  })
}

/** 400 naming only the models this caller may use: the rest of the list is none of their business. */
function unknownModel(config: GatewayConfig, principal: Principal, model: string): GatewayError {
  const usable = Object.keys(config.models).filter((name) => mayUse(principal, name))
  return new GatewayError(
    400,
    'unknown_model',
    `Unknown model "${model}". Available: ${usable.join(', ') || 'none without credentials'}.`,
    { retryable: false, issues: [{ path: 'model', message: 'is not a configured model' }] },
  )
}

/** The request's `max_tokens`, lowered to the model's ceiling; the ceiling itself when the request sets none. */
export function withinCeiling(maxTokens: number | undefined, model: ModelConfig): number | undefined {
  const ceiling = model.max_tokens_ceiling
  if (ceiling === undefined) return maxTokens
  return Math.min(maxTokens ?? ceiling, ceiling)
}

/** About four characters a token, plus a few per message for the chat template. */
export function estimatePromptTokens(request: ChatRequest): number {
  return request.messages.reduce((sum, message) => sum + Math.ceil(messageChars(message) / 4) + 4, 0)
}

/** Providers charge an image by its size, which the gateway does not decode: a generous flat guess. */
const IMAGE_TOKENS_ESTIMATE = 1000

/** A message's size in characters for the estimate, an image counted as its token guess times four. */
function messageChars(message: ChatRequest['messages'][number]): number {
  const { content } = message
  let chars = typeof content === 'string' ? content.length : 0
  if (Array.isArray(content)) {
    for (const part of content) chars += part.type === 'text' ? part.text.length : IMAGE_TOKENS_ESTIMATE * 4
  }
  if ('tool_calls' in message && message.tool_calls) {
    for (const call of message.tool_calls) chars += call.function.name.length + call.function.arguments.length
  }
  return chars
}

/**
 * How long an answer can possibly run: the header timeout for the model and each fallback, then
 * the stream deadline, plus a minute's margin. After that its lease frees itself.
 */
function leaseTtlMs(config: GatewayConfig, model: ModelConfig): number {
  return config.upstreamHeadersTimeoutMs * (1 + model.fallbacks.length) + config.streamDeadlineMs + 60_000
}
