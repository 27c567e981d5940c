import type { GatewayConfig } from '../config/load'
import type { ChatRequest } from '../request/chat-request'

/**
 * `['cache_control']` when the request marks prompt-cache breakpoints (`cache_control` on a text
 * part or a tool) and the model it names is not served by the `anthropic` adapter, the only one
 * that sends them: every other adapter leaves them out, so the surface names the field in
 * `X-Gateway-Ignored`. Otherwise nothing.
 */
export function droppedCacheMarks(config: GatewayConfig, request: ChatRequest): string[] {
  const model = request.model ?? config.defaultModel
  if (Object.hasOwn(config.models, model) && config.models[model]!.adapter === 'anthropic') return []
  const marked =
    request.tools?.some((tool) => tool.cache_control) ||
    request.messages.some(
      (message) =>
        Array.isArray(message.content) &&
        (message.content as ReadonlyArray<{ cache_control?: unknown }>).some((part) => part.cache_control),
    )
  return marked ? ['cache_control'] : []
}
