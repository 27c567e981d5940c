import { Hono, type MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { AppEnv } from '../app-env'
import type { GatewayConfig } from '../config'
import { GatewayError } from '../errors'
import { requireJson } from '../middleware/require-json'
import { chatEventStream, type StreamSummary } from '../pipeline/chat-event-stream'
import { openUpstream } from '../pipeline/open-upstream'
import { adapterFor } from '../providers'
import { chatRequestSchema, type ChatRequest } from '../schema/chat-request'
import { EVENT_STREAM_HEADERS } from '../sse/headers'

/** `POST /api/chat`: validate, pick the model, open the upstream, stream its answer as events. */
export const chat = new Hono<AppEnv>()

chat.post('/', requireJson(), limitBody(), async (c) => {
  const { config } = c.var
  const request = await readChatRequest(c.req.raw, config)
  const modelName = request.model ?? config.defaultModel
  const model = Object.hasOwn(config.models, modelName) ? config.models[modelName] : undefined
  if (!model) {
    throw new GatewayError(
      400,
      'unknown_model',
      `Unknown model "${modelName}". Available: ${Object.keys(config.models).join(', ')}.`,
      {
        retryable: false,
        issues: [{ path: 'model', message: 'is not a configured model' }],
      },
    )
  }

  const upstream = await openUpstream(adapterFor(modelName, model, c.env), request, {
    headersTimeoutMs: config.upstreamHeadersTimeoutMs,
    signal: c.req.raw.signal,
  })
  const stream = chatEventStream(upstream, {
    start: { id: `chat_${crypto.randomUUID()}`, model: modelName, created: Math.floor(Date.now() / 1000) },
    retryMs: config.retryMs,
    heartbeatMs: config.heartbeatMs,
    idleTimeoutMs: config.upstreamIdleTimeoutMs,
    deadlineMs: config.streamDeadlineMs,
    onEnd: (summary) => logStream(modelName, summary),
  })
  return new Response(stream, { headers: EVENT_STREAM_HEADERS })
})

chat.all('/', () => {
  throw new GatewayError(405, 'method_not_allowed', 'Use POST for /api/chat.', {
    retryable: false,
    headers: { Allow: 'POST' },
  })
})

/** Refuses bodies over the configured size: by Content-Length up front, or by counting as they stream in. */
function limitBody(): MiddlewareHandler<AppEnv> {
  return async function limitBody(c, next) {
    const maxSize = c.var.config.maxBodyBytes
    return bodyLimit({
      maxSize,
      onError: () => {
        throw new GatewayError(413, 'payload_too_large', `The request body is larger than ${maxSize} bytes.`, {
          retryable: false,
        })
      },
    })(c, next)
  }
}

const schemas = new WeakMap<GatewayConfig, ReturnType<typeof chatRequestSchema>>()

/** Parses and validates the JSON body; a 400 lists every offending path. */
async function readChatRequest(request: Request, config: GatewayConfig): Promise<ChatRequest> {
  let body: unknown
  try {
    body = await request.json()
  } catch {
    throw new GatewayError(400, 'invalid_json', 'The request body is not valid JSON.', { retryable: false })
  }
  let schema = schemas.get(config)
  if (!schema) schemas.set(config, (schema = chatRequestSchema(config)))
  const result = schema.safeParse(body)
  if (!result.success) {
    throw new GatewayError(400, 'invalid_request', 'The request does not match the chat request schema.', {
      retryable: false,
      issues: result.error.issues.flatMap((issue) => {
        const path = issue.path.join('.')
        // One entry per unknown field, at its own path, rather than one for the object holding them.
        if (issue.code === 'unrecognized_keys') {
          return issue.keys.map((key) => ({ path: path ? `${path}.${key}` : key, message: 'is not a known field' }))
        }
        return [{ path: path || '(body)', message: issue.message }]
      }),
    })
  }
  return result.data
}

/** One structured line per answer: what happened and how long it took, never what was said. */
function logStream(model: string, summary: StreamSummary): void {
  console.log(JSON.stringify({ level: 'info', msg: 'chat stream ended', model, ...summary }))
}
