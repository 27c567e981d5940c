import { Hono } from 'hono/tiny'
import * as v from 'valibot'
import type { AppEnv } from '../app-env'
import type { GatewayConfig } from '../config'
import { GatewayError } from '../errors'
import { limitBody } from '../middleware/limit-body'
import { requireJson } from '../middleware/require-json'
import { chatRequestSchema, describeIssues, requestIssues, type ChatRequest } from '../schema/chat-request'
import { gatewayEventFormat } from '../sse/format'
import { openAnswer, streamAnswer } from './answer'

/** `POST /api/chat`: validate, pick the model, open the upstream, stream its answer as events. */
export const chat = new Hono<AppEnv>()

chat.post('/', requireJson(), limitBody(), async (c) => {
  const request = await readChatRequest(c.req.raw, c.var.config)
  const answer = await openAnswer(c, request)
  return streamAnswer(c, answer, gatewayEventFormat({ retryMs: c.var.config.retryMs }))
})

chat.all('/', () => {
  throw new GatewayError(405, 'method_not_allowed', 'Use POST for /api/chat.', {
    retryable: false,
    headers: { Allow: 'POST' },
  })
})

/** Parses and validates the JSON body; a 400 lists every offending path. */
export async function readChatRequest(request: Request, config: GatewayConfig): Promise<ChatRequest> {
  let body: unknown
  try {
    body = await request.json()
  } catch {
    throw new GatewayError(400, 'invalid_json', 'The request body is not valid JSON.', { retryable: false })
  }
  return validateChatRequest(body, config)
}

const schemas = new WeakMap<GatewayConfig, ReturnType<typeof chatRequestSchema>>()

/** Checks a request against the schema and the configured limits; a 400 lists every offending path. */
export function validateChatRequest(body: unknown, config: GatewayConfig): ChatRequest {
  let schema = schemas.get(config)
  if (!schema) schemas.set(config, (schema = chatRequestSchema(config)))
  const result = v.safeParse(schema, body)
  const issues = result.success ? requestIssues(result.output, config) : describeIssues(result.issues)
  if (issues.length) {
    throw new GatewayError(400, 'invalid_request', 'The request does not match the chat request schema.', {
      retryable: false,
      issues,
    })
  }
  return result.output as ChatRequest
}
