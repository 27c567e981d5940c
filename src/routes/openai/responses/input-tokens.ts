import type { Context } from 'hono'
import type { AppEnv } from '../../../app-env'
import { isObject } from '../../../request/json-shape'
import { noteIgnored } from '../../shared/ignored-fields'
import { passesThrough } from '../../../dialects/openai-pass-through'
import { inputTokensOf } from '../../shared/input-tokens'
import { jsonBody } from '../../shared/json-body'
import { validateAtResponsesPaths } from '../../../dialects/responses/validate'
import { conversation } from './conversation'
import { nativeResponses } from '../../../dialects/responses/pass-through'
import { fromResponsesRequest } from '../../../dialects/responses/request'

/**
 * `POST /v1/responses/input_tokens`: what a Responses request would take as input, in OpenAI's
 * shape (`{"object": "response.input_tokens", "input_tokens": n}`). The body is a create
 * request's (`model` may be left out: the default model), its `previous_response_id` and item
 * references filled in as they would be. Where the model's provider counts without answering
 * (Anthropic's `count_tokens`, OpenAI's `input_tokens` on a model with `api = "responses"`, which
 * is sent the caller's body as an answer would be), it counts; for any other, the gateway
 * estimates as it does for budgets (about four characters a token), and the `x-token-count`
 * header says which (`provider` or `estimate`), as on `/v1/messages/count_tokens`. Nothing is
 * generated, so nothing is charged.
 */
export async function inputTokens(c: Context<AppEnv>): Promise<Response> {
  const { config } = c.var
  const body = await jsonBody(c)
  const withModel = isObject(body) && body.model === undefined ? { ...body, model: config.defaultModel } : body
  const passed = isObject(withModel) && passesThrough(config, withModel.model, 'responses')
  const request = fromResponsesRequest(withModel, config, { lenient: passed })
  if (!passed) noteIgnored(c, request.ignored)
  const held = await conversation(c, request)
  const chat = validateAtResponsesPaths(
    c.var.config,
    { ...request.chat, messages: held.messages },
    held.sources,
    request.toolPaths,
  )
  const native = passed ? { native: nativeResponses(withModel, held) } : {}
  const { tokens, countedBy } = await inputTokensOf(c, { ...chat, ...native })
  return c.json({ object: 'response.input_tokens', input_tokens: tokens }, 200, { 'x-token-count': countedBy })
}
