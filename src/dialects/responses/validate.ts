import type { GatewayConfig } from '../../config/load'
import type { ChatRequest } from '../../request/chat-request'
import { validateChatRequest } from '../../request/validate'
import { atCallerPaths } from '../caller-paths'
import { atResponsesPath } from './request'

/**
 * `/api/chat`'s schema and limits, with each issue at the path the caller sent (`atResponsesPath`,
 * through `../caller-paths.ts`, as Messages' are). `sources`: where each message of the
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
    throw atCallerPaths(error, (path) => atResponsesPath(path, sources, toolPaths), { always: true })
  }
}
