import type { Context } from 'hono'
import { principalOf, unauthorized } from '../../../access/authenticate'
import { estimatePromptTokens } from '../../../access/estimate'
import { mayUse } from '../../../access/principal'
import type { AppEnv } from '../../../app-env'
import { GatewayError } from '../../../errors'
import { countUpstreamTokens } from '../../../pipeline/count-tokens'
import { isObject } from '../../../request/json-shape'
import { noteIgnored } from '../../shared/ignored-fields'
import { jsonBody } from '../../shared/json-body'
import { conversation, validateAtResponsesPaths } from './conversation'
import { fromResponsesRequest } from './request'

/**
 * `POST /v1/responses/input_tokens`: what a Responses request would take as input, in OpenAI's
 * shape (`{"object": "response.input_tokens", "input_tokens": n}`). The body is a create
 * request's (`model` may be left out: the default model), its `previous_response_id` and item
 * references filled in as they would be. Where the model's provider counts without answering
 * (Anthropic's `count_tokens`), it counts; for any other, OpenAI upstreams included, the gateway
 * estimates as it does for budgets (about four characters a token), and the `x-token-count`
 * header says which (`provider` or `estimate`), as on `/v1/messages/count_tokens`. Nothing is
 * generated, so nothing is charged.
 */
export async function inputTokens(c: Context<AppEnv>): Promise<Response> {
  const { config } = c.var
  const body = await jsonBody(c)
  const withModel = isObject(body) && body.model === undefined ? { ...body, model: config.defaultModel } : body
  const request = fromResponsesRequest(withModel, config)
  noteIgnored(c, request.ignored)
  const { messages, sources } = await conversation(c, request)
  const chat = validateAtResponsesPaths(c, { ...request.chat, messages }, sources)
  const model = chat.model ?? config.defaultModel
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
  const counted = await countUpstreamTokens({ config, env: c.env, signal: c.req.raw.signal }, { ...chat, model })
  return c.json({ object: 'response.input_tokens', input_tokens: counted ?? estimatePromptTokens(chat) }, 200, {
    'x-token-count': counted === undefined ? 'estimate' : 'provider',
  })
}
