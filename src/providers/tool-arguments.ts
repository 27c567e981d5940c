import { GatewayError } from '../errors'
import type { ChatRequest } from '../request/chat-request'

/**
 * A tool call's arguments as an object, for providers that take them parsed (Anthropic's
 * `input`, Gemini's `args`). OpenAI sends them as JSON text; text that is not a JSON object is a
 * 400 naming the call, rather than a guess.
 */
export function parseToolArguments(text: string, path: string): Record<string, unknown> {
  if (text.trim() === '') return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    value = undefined
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new GatewayError(400, 'invalid_request', `${path} is not a JSON object.`, {
      retryable: false,
      issues: [{ path, message: 'is not a JSON object' }],
    })
  }
  return value as Record<string, unknown>
}

/** The name of the function each tool call id called, for providers that answer a call by name (Gemini). */
export function toolNamesById(request: ChatRequest): Map<string, string> {
  const names = new Map<string, string>()
  for (const message of request.messages) {
    if (message.role === 'assistant')
      for (const call of message.tool_calls ?? []) names.set(call.id, call.function.name)
  }
  return names
}
