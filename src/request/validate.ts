import * as v from 'valibot'
import type { GatewayConfig } from '../config/load'
import { invalidRequest } from '../errors'
import { chatRequestSchema, describeIssues, requestIssues, type ChatRequest } from './chat-request'

const schemas = new WeakMap<GatewayConfig, ReturnType<typeof chatRequestSchema>>()

/**
 * Checks a chat request against the schema and the configured limits, whichever surface it came
 * in on (each translates its own wire request into this one first); a 400 lists every offending path.
 */
export function validateChatRequest(body: unknown, config: GatewayConfig): ChatRequest {
  let schema = schemas.get(config)
  if (!schema) schemas.set(config, (schema = chatRequestSchema(config)))
  const result = v.safeParse(schema, body)
  const issues = result.success ? requestIssues(result.output, config) : describeIssues(result.issues)
  if (issues.length) {
    throw invalidRequest('chat request', issues)
  }
  return result.output as ChatRequest
}
