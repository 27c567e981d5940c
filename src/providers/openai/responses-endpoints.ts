import { GatewayError } from '../../errors'
import type { UpstreamRequest } from '../../request/native-request'
import { fetchUpstream, upstreamRefusal } from '../http'
import type { OpenUpstreamOptions } from '../types'
import { passThroughResponsesBody } from './pass-through'
import { toResponsesBody } from './responses-body'

/** What OpenAI's `POST /responses/input_tokens` reads of a Responses request. */
const COUNTED_FIELDS = [
  'model',
  'input',
  'instructions',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'reasoning',
  'text',
  'truncation',
  'conversation',
] as const

/**
 * The Responses API's endpoints that answer in one JSON body rather than a stream: counting a
 * request's input tokens (`/responses/input_tokens`) and compacting a conversation
 * (`/responses/compact`), for an `openai` model with `api = "responses"`.
 */
export function responsesEndpoints(model: string, base: string, headers: Record<string, string>) {
  const post = async (path: string, body: object, signal: AbortSignal): Promise<Record<string, unknown>> => {
    const response = await fetchUpstream(
      `${base}/${path}`,
      { method: 'POST', headers, body: JSON.stringify(body) },
      signal,
    )
    if (!response.ok) throw await upstreamRefusal(response)
    const answer = (await response.json().catch(() => null)) as unknown
    if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
      throw new GatewayError(502, 'upstream_invalid_response', 'The model provider did not answer with JSON.')
    }
    return answer as Record<string, unknown>
  }
  return {
    /** The input tokens of the body an answer would send (the caller's own, or the translation). */
    async countTokens(request: UpstreamRequest, { signal }: OpenUpstreamOptions): Promise<number> {
      const own = request.native?.dialect === 'responses' ? request.native : undefined
      const create: Record<string, unknown> = own
        ? passThroughResponsesBody(model, request, own)
        : toResponsesBody(model, request)
      // A create request's fields, less what only shapes the answer's sampling and delivery.
      const count = Object.fromEntries(COUNTED_FIELDS.filter((f) => create[f] !== undefined).map((f) => [f, create[f]]))
      const counted = await post('responses/input_tokens', count, signal)
      if (typeof counted.input_tokens !== 'number') {
        throw new GatewayError(502, 'upstream_invalid_response', 'The model provider did not answer with a count.')
      }
      return counted.input_tokens
    },
    /**
     * A Responses caller's compaction request (`native`), as it is with the model set: the
     * conversation its `previous_response_id` names is already in `input` (the route fills it in).
     */
    async compact(request: UpstreamRequest, { signal }: OpenUpstreamOptions): Promise<unknown> {
      if (request.native?.dialect !== 'responses') {
        throw new GatewayError(400, 'unsupported_endpoint', 'Compaction takes a Responses request.', {
          retryable: false,
        })
      }
      return post('responses/compact', { ...request.native.body, model }, signal)
    },
  }
}
