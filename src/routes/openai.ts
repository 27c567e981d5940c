import { Hono } from 'hono/tiny'
import type { AppEnv } from '../app-env'
import { GatewayError } from '../errors'
import { limitBody } from '../middleware/limit-body'
import { requireJson } from '../middleware/require-json'
import { openAIChunkFormat, toOpenAIFinishReason, toOpenAIUsage } from '../openai-compat/chunk-format'
import { fromOpenAIRequest } from '../openai-compat/request'
import { AnswerError, collectAnswer } from '../pipeline/collect-answer'
import { logAnswer, openAnswer, streamAnswer } from './answer'
import { validateChatRequest } from './chat'

/**
 * An OpenAI-compatible front door (`/v1`): the official SDKs, given this as `baseURL`, work
 * unchanged for every configured model, whichever provider serves it.
 */
export const openAI = new Hono<AppEnv>()

openAI.get('/models', (c) =>
  c.json({
    object: 'list',
    data: Object.keys(c.var.config.models).map((id) => ({ id, object: 'model', created: 0, owned_by: 'gateway' })),
  }),
)

openAI.post('/chat/completions', requireJson(), limitBody(), async (c) => {
  let body: unknown
  try {
    body = await c.req.json()
  } catch {
    throw new GatewayError(400, 'invalid_json', 'The request body is not valid JSON.', { retryable: false })
  }
  const { chat, stream, includeUsage } = fromOpenAIRequest(body)
  const request = validateChatRequest(chat, c.var.config)
  const opened = await openAnswer(c, request)
  if (stream) return streamAnswer(c, opened, openAIChunkFormat({ includeUsage }))
  const { model, upstream } = opened

  const startedAt = Date.now()
  const { config } = c.var
  try {
    const answer = await collectAnswer(opened.stream, {
      idleTimeoutMs: config.upstreamIdleTimeoutMs,
      deadlineMs: config.streamDeadlineMs,
    })
    const durationMs = Date.now() - startedAt
    logAnswer(c.req.path, model, upstream, {
      outcome: 'done',
      finishReason: answer.finishReason,
      usage: answer.usage,
      durationMs,
    })
    return c.json({
      id: `chat_${crypto.randomUUID()}`,
      object: 'chat.completion',
      created: Math.floor(startedAt / 1000),
      model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            // OpenAI's shape: no text beside tool calls is `null`, not an empty string.
            content: answer.text || (answer.toolCalls.length ? null : ''),
            refusal: null,
            ...(answer.reasoning && { reasoning_content: answer.reasoning }),
            ...(answer.toolCalls.length && {
              tool_calls: answer.toolCalls.map(({ id, name, arguments: args }) => ({
                id,
                type: 'function',
                function: { name, arguments: args },
              })),
            }),
          },
          logprobs: null,
          finish_reason: toOpenAIFinishReason(answer.finishReason),
        },
      ],
      ...(answer.usage && { usage: toOpenAIUsage(answer.usage) }),
    })
  } catch (error) {
    if (!(error instanceof AnswerError)) throw error
    logAnswer(c.req.path, model, upstream, {
      outcome: 'error',
      errorCode: error.data.code,
      durationMs: Date.now() - startedAt,
    })
    const status = error.data.code.includes('timeout') || error.data.code === 'deadline_exceeded' ? 504 : 502
    throw new GatewayError(status, error.data.code, error.data.message, { retryable: error.data.retryable })
  }
})

/** Errors on this surface take OpenAI's shape, which its SDKs turn into typed exceptions. */
openAI.onError((error, c) => {
  const gatewayError =
    error instanceof GatewayError
      ? error
      : new GatewayError(500, 'internal_error', 'The gateway failed to handle the request.')
  if (!(error instanceof GatewayError)) {
    console.error(JSON.stringify({ level: 'error', msg: 'unhandled error', path: c.req.path, error: String(error) }))
  }
  const { status, code, message, options } = gatewayError
  const type = status === 429 ? 'rate_limit_error' : status < 500 ? 'invalid_request_error' : 'api_error'
  const param = options.issues?.[0]?.path ?? null
  const headers: Record<string, string> = { ...options.headers }
  if (options.retryAfter) headers['Retry-After'] = options.retryAfter
  return c.json({ error: { message, type, param, code } }, status as 400, headers)
})
