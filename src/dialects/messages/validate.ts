import type { GatewayConfig } from '../../config/load'
import type { ChatRequest } from '../../request/chat-request'
import { validateChatRequest } from '../../request/validate'
import { atCallerPaths } from '../caller-paths'
import { callerPath, type Origin, type TranslatedRequest } from './request'

/**
 * The translated request checked by the gateway's own schema and limits; a 400 names the
 * caller's paths (see `inCallerTerms`), the first in its message, as Anthropic's do.
 */
export function validateMessagesRequest({ chat, origins }: TranslatedRequest, config: GatewayConfig): ChatRequest {
  try {
    return validateChatRequest(chat, config)
  } catch (error) {
    throw inCallerTerms(error, origins, { always: true })
  }
}

/**
 * A refusal of the translated request (by the schema, or by a provider's adapter: an image to a
 * model without vision) with the paths the caller sent (`messages.3.content.1`,
 * `stop_sequences`), its message naming the first (`../caller-paths.ts`). Anything else is
 * returned as it is, and so is a refusal whose paths are the caller's already, unless `always`.
 */
export function inCallerTerms(error: unknown, origins: Origin[], { always = false } = {}): unknown {
  return atCallerPaths(error, (path) => callerPath(path, origins), { always, nameFirst: true })
}
