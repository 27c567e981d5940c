import type { Context } from 'hono'
import type { AppEnv } from '../app-env'
import type { GatewayConfig, ModelConfig } from '../config'
import { GatewayError } from '../errors'
import { chatEventStream, type StreamSummary } from '../pipeline/chat-event-stream'
import { openUpstream } from '../pipeline/open-upstream'
import { adapterFor } from '../providers'
import type { UpstreamStream } from '../providers/types'
import type { ChatRequest } from '../schema/chat-request'
import type { StreamFormat } from '../sse/format'
import { EVENT_STREAM_HEADERS } from '../sse/headers'

/** The configured model a request names (or the default), or a 400 naming the ones that exist. */
export function modelFor(config: GatewayConfig, name: string | undefined): { name: string; model: ModelConfig } {
  const modelName = name ?? config.defaultModel
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
  return { name: modelName, model }
}

/** Opens the upstream for a validated request: the adapter's request, bounded by the header timeout. */
export function openAnswer(
  c: Context<AppEnv>,
  request: ChatRequest,
): Promise<{ model: string; upstream: UpstreamStream }> {
  const { config } = c.var
  const { name, model } = modelFor(config, request.model)
  return openUpstream(adapterFor(name, model, c.env), request, {
    headersTimeoutMs: config.upstreamHeadersTimeoutMs,
    signal: c.req.raw.signal,
  }).then((upstream) => ({ model: name, upstream }))
}

/** Streams an opened answer to the client in the given wire format. */
export function streamAnswer(
  c: Context<AppEnv>,
  model: string,
  upstream: UpstreamStream,
  format: StreamFormat,
): Response {
  const { config } = c.var
  const stream = chatEventStream(upstream, {
    start: { id: `chat_${crypto.randomUUID()}`, model, created: Math.floor(Date.now() / 1000) },
    format,
    heartbeatMs: config.heartbeatMs,
    idleTimeoutMs: config.upstreamIdleTimeoutMs,
    deadlineMs: config.streamDeadlineMs,
    onEnd: (summary) => logAnswer(c.req.path, model, summary),
  })
  return new Response(stream, { headers: EVENT_STREAM_HEADERS })
}

/** One structured line per answer: what happened and how long it took, never what was said. */
export function logAnswer(path: string, model: string, summary: StreamSummary): void {
  console.log(JSON.stringify({ level: 'info', msg: 'answer ended', path, model, ...summary }))
}
