import type { GatewayConfig } from '../../config/load'
import { GatewayError } from '../../errors'
import type { ChatRequest } from '../../request/chat-request'
import { validateChatRequest } from '../../request/validate'
import { callerPath, type TranslatedRequest } from './request'

/**
 * The translated request checked by the gateway's own schema and limits, its 400s naming the
 * paths the caller sent (`messages.3.content.1`, `stop_sequences`), not the translation's.
 */
export function validateMessagesRequest({ chat, origins }: TranslatedRequest, config: GatewayConfig): ChatRequest {
  try {
    return validateChatRequest(chat, config)
  } catch (error) {
    if (!(error instanceof GatewayError) || !error.options.issues) throw error
    const issues = error.options.issues.map(({ path, message }) => ({ path: callerPath(path, origins), message }))
    const [first] = issues
    throw new GatewayError(error.status, error.code, `${first!.path}: ${first!.message}`, { ...error.options, issues })
  }
}
