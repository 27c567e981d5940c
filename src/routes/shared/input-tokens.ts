import type { Context } from 'hono'
import { principalOf, unauthorized } from '../../access/authenticate'
import { estimatePromptTokens } from '../../access/estimate'
import { mayUse } from '../../access/principal'
import type { AppEnv } from '../../app-env'
import { GatewayError } from '../../errors'
import { countUpstreamTokens } from '../../pipeline/count-tokens'
import type { UpstreamRequest } from '../../request/native-request'

/** A request's input tokens, and who counted them (the `x-token-count` header's value). */
export interface InputTokens {
  tokens: number
  countedBy: 'provider' | 'estimate'
}

/**
 * The input tokens of a validated request, for the dialects' token-count routes: the provider's
 * own count where it offers one (Anthropic's `count_tokens`), else the estimate budgets use
 * (`estimatePromptTokens`: messages, tools and schemas at about four characters a token). The
 * model must exist and be the caller's, as for an answer; nothing is generated or charged.
 */
export async function inputTokensOf(c: Context<AppEnv>, request: UpstreamRequest): Promise<InputTokens> {
  const model = await callersModel(c, request.model)
  const { config } = c.var
  const counted = await countUpstreamTokens({ config, env: c.env, signal: c.req.raw.signal }, { ...request, model })
  return counted === undefined
    ? { tokens: estimatePromptTokens(request), countedBy: 'estimate' }
    : { tokens: counted, countedBy: 'provider' }
}

/**
 * The model a request names (the default when it names none), for the routes that ask its
 * provider something without an answer (counting, compaction): it must exist (404) and be the
 * caller's (401 for an anonymous caller, 403 otherwise), as for an answer.
 */
export async function callersModel(c: Context<AppEnv>, named: string | undefined): Promise<string> {
  const { config } = c.var
  const model = named ?? config.defaultModel
  const principal = await principalOf(c)
  if (!Object.hasOwn(config.models, model)) {
    throw new GatewayError(404, 'unknown_model', `model: ${model}`, { retryable: false })
  }
  if (!mayUse(principal, model)) {
    if (principal.kind === 'anonymous') throw unauthorized()
    throw new GatewayError(403, 'model_not_allowed', `Your credentials do not allow model "${model}".`, {
      retryable: false,
    })
  }
  return model
}
