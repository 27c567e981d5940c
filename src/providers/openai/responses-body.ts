import { unsupportedParameter } from '../../errors'
import type { ChatRequest } from '../../request/chat-request'
import { responsesInputOf } from '../../request/responses-input'
import { refuseToolResultImages } from '../tool-results'

/**
 * The gateway's request as an OpenAI Responses request (`POST /responses`, `stream: true`), for a
 * caller of another dialect (`/api/chat`, `/v1/chat/completions`, `/v1/messages`) on a model with
 * `api = "responses"`. `store: false`: the gateway keeps answers itself, and asks the provider to
 * keep nothing. Responses has no `stop` and no `top_k`: refused by name rather than dropped.
 */
export function toResponsesBody(model: string, request: ChatRequest) {
  refuseToolResultImages(request, 'OpenAI')
  if (request.top_k !== undefined) {
    throw unsupportedParameter('top_k', 'OpenAI models take no top_k; use temperature or top_p.')
  }
  if (request.stop !== undefined) {
    throw unsupportedParameter(
      'stop',
      'this model is served through OpenAI’s Responses API, which has no stop sequences.',
    )
  }
  const format = request.response_format
  return {
    model,
    input: responsesInputOf(request.messages),
    stream: true,
    store: false,
    temperature: request.temperature,
    top_p: request.top_p,
    max_output_tokens: request.max_tokens,
    tools: request.tools?.map(({ function: f }) => ({
      type: 'function',
      name: f.name,
      description: f.description,
      parameters: f.parameters,
      strict: f.strict ?? undefined,
    })),
    tool_choice:
      typeof request.tool_choice === 'object'
        ? { type: 'function', name: request.tool_choice.function.name }
        : request.tool_choice,
    parallel_tool_calls: request.parallel_tool_calls,
    reasoning: request.reasoning_effort && { effort: request.reasoning_effort },
    text:
      format || request.verbosity
        ? {
            format: format?.type === 'json_schema' ? { type: 'json_schema', ...format.json_schema } : format,
            verbosity: request.verbosity,
          }
        : undefined,
    prompt_cache_key: request.prompt_cache_key,
  }
}
