import { Hono } from 'hono/tiny'
import * as v from 'valibot'
import { admitAnswer } from '../access/admission'
import type { AppEnv } from '../app-env'
import type { GatewayConfig } from '../config'
import { GatewayError, methodNotAllowed } from '../errors'
import { identifyCaller } from '../middleware/identify-caller'
import { limitBody } from '../middleware/limit-body'
import { requireJson } from '../middleware/require-json'
import { chatRequestSchema, describeIssues, requestIssues, type ChatRequest } from '../schema/chat-request'
import { gatewayEventFormat } from '../sse/format'
import { openAdmittedAnswer, streamAnswer } from './answer'

/**
 * `POST /api/chat`: check the caller, validate, admit (model permission and limits), open the
 * upstream, stream its answer as events.
 */
export const chat = new Hono<AppEnv>()

chat.post('/', identifyCaller(), requireJson(), limitBody(), async (c) => {
  const request = await readChatRequest(c.req.raw, c.var.config)
  const admission = await admitAnswer(c, request)
  const answer = await openAdmittedAnswer(c, admission)
  return streamAnswer(c, answer, gatewayEventFormat({ retryMs: c.var.config.retryMs }), admission.lease)
})

chat.all('/', () => {
  throw methodNotAllowed('POST', 'Use POST for /api/chat.')
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
