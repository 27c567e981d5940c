import type { Context } from 'hono'
import type { AppEnv } from '../../../app-env'
import { GatewayError } from '../../../errors'
import { compactUpstream } from '../../../pipeline/compact'
import { isObject } from '../../../request/json-shape'
import { callersModel } from '../../shared/input-tokens'
import { jsonBody } from '../../shared/json-body'
import { passesThrough } from '../../../dialects/openai-pass-through'
import { validateAtResponsesPaths } from '../../../dialects/responses/validate'
import { conversation } from './conversation'
import { nativeResponses } from '../../../dialects/responses/pass-through'
import { fromResponsesRequest } from '../../../dialects/responses/request'

/**
 * `POST /v1/responses/compact`: OpenAI's compaction (an opaque, encrypted summary of a
 * conversation), forwarded to a model served through the Responses API (`api = "responses"`),
 * with the caller's body as it is, its `previous_response_id` and item references filled in as
 * for a response. Other providers have no counterpart and the gateway keeps no summaries: for
 * their models, the 404 `unsupported_endpoint` says so. Not counted against token budgets (the
 * provider's answer is returned as it is, usage included): the rate limit bounds it.
 */
export async function compact(c: Context<AppEnv>): Promise<Response> {
  const { config } = c.var
  const body = await jsonBody(c)
  const withModel = isObject(body) && body.model === undefined ? { ...body, model: config.defaultModel } : body
  if (!isObject(withModel) || !passesThrough(config, withModel.model, 'responses')) throw compactionUnsupported()
  const model = await callersModel(c, withModel.model as string)
  const request = fromResponsesRequest(withModel, config, { lenient: true })
  const held = await conversation(c, request)
  const chat = validateAtResponsesPaths(
    c.var.config,
    { ...request.chat, messages: held.messages },
    held.sources,
    request.toolPaths,
  )
  const native = nativeResponses(withModel, held)
  const scope = { config, env: c.env, signal: c.req.raw.signal }
  const compacted = await compactUpstream(scope, { ...chat, model, native })
  if (compacted === undefined) throw compactionUnsupported()
  return c.json(compacted)
}

export function compactionUnsupported(): GatewayError {
  return new GatewayError(
    404,
    'unsupported_endpoint',
    'POST /v1/responses/compact: compaction is offered only for models served through OpenAI’s Responses API (api = "responses"). Send the conversation as input, or continue it with previous_response_id.',
    { retryable: false },
  )
}
