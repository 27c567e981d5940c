import { Hono } from 'hono/tiny'
import { admitAnswer, settleAnswer } from '../access/admission'
import { inBackground } from '../background'
import { mayUse } from '../access/principal'
import type { AppEnv } from '../app-env'
import { GatewayError } from '../errors'
import { identifyCaller } from '../middleware/identify-caller'
import { limitBody } from '../middleware/limit-body'
import { requireJson } from '../middleware/require-json'
import { openAIChunkFormat, toOpenAIFinishReason, toOpenAIUsage } from '../openai-compat/chunk-format'
import { fromOpenAIRequest } from '../openai-compat/request'
import { AnswerError, collectAnswer } from '../pipeline/collect-answer'
import type { StreamSummary } from '../pipeline/chat-event-stream'
import { logAnswer } from '../pipeline/log-answer'
import { openAdmittedAnswer, streamAnswer } from './answer'
import { validateChatRequest } from './chat'

/**
 * An OpenAI-compatible front door (`/v1`): the official SDKs, given this as `baseURL`, work
 * unchanged for every configured model, whichever provider serves it.
 */
export const openAI = new Hono<AppEnv>()

/** The models this caller may use, as `GET /api/models` lists them. */
openAI.get('/models', identifyCaller(), (c) =>
  c.json({
    object: 'list',
    data: Object.keys(c.var.config.models)
      .filter((id) => mayUse(c.var.principal!, id))
      .map((id) => ({ id, object: 'model', created: 0, owned_by: 'gateway' })),
  }),
)

openAI.post('/chat/completions', identifyCaller(), requireJson(), limitBody(), async (c) => {
  let body: unknown
  try {
    body = await c.req.json()
  } catch {
    throw new GatewayError(400, 'invalid_json', 'The request body is not valid JSON.', { retryable: false })
  }
  const { chat, stream, includeUsage } = fromOpenAIRequest(body)
  const admission = await admitAnswer(c, validateChatRequest(chat, c.var.config))
  const { lease } = admission
  const opened = await openAdmittedAnswer(c, admission)
  if (stream) return streamAnswer(c, opened, openAIChunkFormat({ includeUsage }), lease)
  const { model, upstream } = opened
  const ended = (summary: StreamSummary) => {
    logAnswer(c.req.path, model, upstream, summary, lease.principal.name)
    inBackground(c, settleAnswer(c.env, lease, summary))
  }

  const startedAt = Date.now()
  const { config } = c.var
  try {
    const answer = await collectAnswer(opened.stream, {
      idleTimeoutMs: config.upstreamIdleTimeoutMs,
      deadlineMs: config.streamDeadlineMs,
    })
    const durationMs = Date.now() - startedAt
    ended({
      outcome: 'done',
      finishReason: answer.finishReason,
      usage: answer.usage,
      textChars: answer.text.length,
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
    if (!(error instanceof AnswerError)) {
      ended({ outcome: 'error', errorCode: 'internal_error', durationMs: Date.now() - startedAt })
      throw error
    }
    ended({
      outcome: 'error',
      errorCode: error.data.code,
      textChars: error.textChars,
      durationMs: Date.now() - startedAt,
    })
    const status = error.data.code.includes('timeout') || error.data.code === 'deadline_exceeded' ? 504 : 502
    throw new GatewayError(status, error.data.code, error.data.message, { retryable: error.data.retryable })
  }
})

/**
 * Gateway codes that OpenAI's API has its own names for, so the SDKs and the code written against
 * them see what they would see from OpenAI: `AuthenticationError` with `invalid_api_key`,
 * `RateLimitError` with `rate_limit_exceeded` or `insufficient_quota`.
 */
const OPENAI_ERRORS: Record<string, { code: string; type: string }> = {
  unauthorized: { code: 'invalid_api_key', type: 'invalid_request_error' },
  rate_limited: { code: 'rate_limit_exceeded', type: 'requests' },
  too_many_streams: { code: 'rate_limit_exceeded', type: 'requests' },
  budget_exhausted: { code: 'insufficient_quota', type: 'insufficient_quota' },
}

/** Errors on this surface take OpenAI's shape, which its SDKs turn into typed exceptions. */
openAI.onError((error, c) => {
  const gatewayError =
    error instanceof GatewayError
      ? error
      : new GatewayError(500, 'internal_error', 'The gateway failed to handle the request.')
  if (!(error instanceof GatewayError)) {
    console.error(JSON.stringify({ level: 'error', msg: 'unhandled error', path: c.req.path, error: String(error) }))
  }
  const { status, message, options } = gatewayError
  const { code, type } = OPENAI_ERRORS[gatewayError.code] ?? {
    code: gatewayError.code,
    type: status === 429 ? 'rate_limit_error' : status < 500 ? 'invalid_request_error' : 'api_error',
  }
  const param = options.issues?.[0]?.path ?? null
  const headers: Record<string, string> = { ...options.headers }
  if (options.retryAfter) headers['Retry-After'] = options.retryAfter
  return c.json({ error: { message, type, param, code } }, status as 400, headers)
})
