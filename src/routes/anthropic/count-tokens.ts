import type { Context } from 'hono'
import { principalOf, unauthorized } from '../../access/authenticate'
import { estimatePromptTokens } from '../../access/estimate'
import { mayUse } from '../../access/principal'
import { countRequest } from '../../access/rate-limit'
import type { AppEnv } from '../../app-env'
import { GatewayError } from '../../errors'
import { countUpstreamTokens } from '../../pipeline/count-tokens'
import { noteIgnored } from '../shared/ignored-fields'
import { jsonBody } from '../shared/json-body'
import { fromMessagesRequest } from './request'
import { validateMessagesRequest } from './validate'

/**
 * `POST /v1/messages/count_tokens`: the request's input tokens, `{ "input_tokens": n }`. For an
 * Anthropic model, Anthropic counts them (its own `count_tokens`); for any other, the gateway
 * estimates them as it does for budgets (about four characters a token), and says so in the
 * `x-token-count` header (`provider` or `estimate`). Nothing is generated, so nothing is charged.
 */
export async function countTokens(c: Context<AppEnv>): Promise<Response> {
  const { config } = c.var
  await countRequest(c) // counted by the route's `rateLimited()` already: a backstop, never twice
  const translated = fromMessagesRequest(await jsonBody(c), config, { maxTokens: false })
  noteIgnored(c, translated.ignored)
  const request = validateMessagesRequest(translated, config)
  const model = request.model ?? config.defaultModel
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
  const counted = await countUpstreamTokens({ config, env: c.env, signal: c.req.raw.signal }, { ...request, model })
  // The estimate: the messages as budgets count them, and the tools' JSON at four characters a token.
  const tools = request.tools ? Math.ceil(JSON.stringify(request.tools).length / 4) : 0
  const inputTokens = counted ?? estimatePromptTokens(request) + tools
  return c.json({ input_tokens: inputTokens }, 200, {
    'x-token-count': counted === undefined ? 'estimate' : 'provider',
  })
}
