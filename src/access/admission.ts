import type { Context } from 'hono'
import type { AppEnv } from '../app-env'
import type { GatewayConfig } from '../config/load'
import { withinCeiling, type ModelConfig } from '../config/models'
import { GatewayError } from '../errors'
import { log } from '../log'
import { principalOf, unauthorized } from './authenticate'
import { estimatePromptTokens } from './estimate'
import { limitsOf, type Lease } from './leases'
import { mayUse, usableModels, type Principal } from './principal'
import type { AdmitResult } from './principal-limits'
import { countRequest } from './rate-limit'
import type { UpstreamRequest } from '../request/native-request'

export interface Admission {
  lease: Lease
  /**
   * The request to send: `model` named (the default when the caller named none), `max_tokens`
   * lowered to the model's ceiling and to what is left of the budget.
   */
  request: UpstreamRequest & { model: string }
  /**
   * The model's fallbacks this principal may use, in order: a fallback is another model, and the
   * principal's list of models holds for it too. Whoever opens the answer tries only these.
   */
  fallbacks: string[]
}

/**
 * Everything that decides whether an answer may start, in order: who is calling (401), the rate
 * limit (429 `rate_limited`; counted already by the route's `rateLimited()` before it read the
 * body, and not counted twice), whether the model exists (400, listing only the models the caller
 * may use) and is theirs to use (401 for an anonymous caller, 403 otherwise), the model's
 * `max_tokens` ceiling, then the principal's open streams (429 `too_many_streams`) and daily token
 * budget (429 `budget_exhausted`), checked and reserved in one step by the principal's Durable
 * Object. Call it before opening the upstream; then `endAnswer` (`usage/end-answer.ts`) or
 * `releaseAnswer` exactly once when the answer ends. A lease that is never settled frees itself
 * at `expiresAt`.
 */
export async function admitAnswer(c: Context<AppEnv>, request: UpstreamRequest): Promise<Admission> {
  const { config } = c.var
  const principal = await principalOf(c)
  await countRequest(c)
  const model = request.model ?? config.defaultModel
  const modelConfig = Object.hasOwn(config.models, model) ? config.models[model] : undefined
  if (!modelConfig) throw unknownModel(config, principal, model)
  if (!mayUse(principal, model)) {
    if (principal.kind === 'anonymous') throw unauthorized()
    throw new GatewayError(403, 'model_not_allowed', `Your credentials do not allow model "${model}".`, {
      retryable: false,
    })
  }
  const fallbacks = modelConfig.fallbacks.filter((fallback) => {
    if (mayUse(principal, fallback)) return true
    log.info('fallback not allowed, skipped', { model, fallback, principal: principal.name })
    return false
  })

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
      log.error('limits object failed', { error: String(error) })
      throw new GatewayError(503, 'limits_unavailable', 'The gateway cannot check your limits right now.', {
        retryable: true,
      })
    }
    if (!result.ok) throw limitRefusal(result)
    maxTokens = result.maxTokens
    Object.assign(lease, { held: true, reservedTokens: result.reservedTokens, expiresAt: result.expiresAt })
  }
  return {
    lease,
    request: { ...request, model, ...(maxTokens !== undefined && { max_tokens: maxTokens }) },
    fallbacks,
  }
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
  const usable = usableModels(config, principal)
  return new GatewayError(
    400,
    'unknown_model',
    `Unknown model "${model}". Available: ${usable.join(', ') || 'none without credentials'}.`,
    { retryable: false, issues: [{ path: 'model', message: 'is not a configured model' }] },
  )
}

/**
 * How long an answer can possibly run: the header timeout for the model and each fallback, then
 * the stream deadline, plus a minute's margin. After that its lease frees itself.
 */
function leaseTtlMs(config: GatewayConfig, model: ModelConfig): number {
  return config.upstreamHeadersTimeoutMs * (1 + model.fallbacks.length) + config.streamDeadlineMs + 60_000
}
