import type { GatewayConfig } from '../../config/load'
import { GatewayError } from '../../errors'
import type { ChatRequest } from '../../request/chat-request'
import { validateChatRequest } from '../../request/validate'
import { atResponsesPath } from './request'

/**
 * `/api/chat`'s schema and limits, with each issue at the path the caller sent (`atResponsesPath`),
 * as `../messages/validate.ts` does for Messages. `sources`: where each message of the
 * conversation came from, the route's `Conversation` with storage's filled in; `toolPaths`, where
 * each tool came from (`ResponsesRequest.toolPaths`).
 */
export function validateAtResponsesPaths(
  config: GatewayConfig,
  chat: unknown,
  sources: string[],
  toolPaths?: string[],
): ChatRequest {
  try {
    return validateChatRequest(chat, config)
  } catch (error) {
    if (!(error instanceof GatewayError) || !error.options.issues) throw error
    const { status, code, message, options } = error
    const issues = options.issues!.map((issue) => ({ ...issue, path: atResponsesPath(issue.path, sources, toolPaths) }))
    throw new GatewayError(status, code, message, { ...options, issues })
  }
}
