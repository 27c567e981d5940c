import { GatewayError } from '../errors'
import { adapterFor } from '../providers'
import type { UpstreamRequest } from '../request/native-request'
import type { AnswerScope } from './open-answer'

/**
 * The provider's compaction of a conversation, where the model's adapter offers one (OpenAI's
 * Responses API), bounded by the header timeout and by the client leaving; undefined where it
 * does not, for the route to say so. Only the model asked for: no fallback compacts for another.
 */
export async function compactUpstream(
  { config, env, signal }: AnswerScope,
  request: UpstreamRequest & { model: string },
): Promise<unknown> {
  const adapter = adapterFor(request.model, config.models[request.model]!, env)
  if (!adapter.compact) return undefined
  const timeout = AbortSignal.timeout(config.upstreamHeadersTimeoutMs)
  try {
    return await adapter.compact(request, { signal: AbortSignal.any([signal, timeout]) })
  } catch (error) {
    if (timeout.aborted && !signal.aborted) {
      throw new GatewayError(504, 'upstream_timeout', 'The model provider did not answer in time.')
    }
    throw error
  }
}
