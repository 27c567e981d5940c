import { GatewayError } from '../errors'
import { adapterFor } from '../providers'
import type { AnswerScope } from './open-answer'
import type { UpstreamRequest } from '../request/native-request'

/**
 * The request's input tokens as the model's provider counts them, where it can count without
 * answering (Anthropic's `count_tokens`), bounded by the header timeout and by the client
 * leaving; undefined where it cannot, for the caller to estimate. Only the model asked for is
 * counted: a fallback's tokenizer counts differently.
 */
export async function countUpstreamTokens(
  { config, env, signal }: AnswerScope,
  request: UpstreamRequest & { model: string },
): Promise<number | undefined> {
  const adapter = adapterFor(request.model, config.models[request.model]!, env)
  if (!adapter.countTokens) return undefined
  const timeout = AbortSignal.timeout(config.upstreamHeadersTimeoutMs)
  try {
    return await adapter.countTokens(request, { signal: AbortSignal.any([signal, timeout]) })
  } catch (error) {
    if (timeout.aborted && !signal.aborted) {
      throw new GatewayError(504, 'upstream_timeout', 'The model provider did not answer in time.')
    }
    throw error
  }
}
