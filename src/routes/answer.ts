import type { Context } from 'hono'
import type { AppEnv } from '../app-env'
import type { Env, GatewayConfig, ModelConfig } from '../config'
import { GatewayError, unsupportedParameter } from '../errors'
import { chatEventStream, type StreamSummary } from '../pipeline/chat-event-stream'
import { openUpstream } from '../pipeline/open-upstream'
import { adapterFor } from '../providers'
import type { UpstreamStream } from '../providers/types'
import { imagesOf, type ChatRequest } from '../schema/chat-request'
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

/** An upstream that has started answering, and which model it serves. */
export interface OpenedAnswer {
  /** The model the request asked for. */
  model: string
  /** The model answering: `model`, or the fallback that stood in for it. */
  upstream: string
  stream: UpstreamStream
}

/**
 * Opens the upstream for a validated request, bounded by the header timeout. When it fails
 * before answering in a way another upstream might not (unreachable, 429, 5xx, header timeout),
 * the model's fallbacks are tried in order. A failure that says the request itself is wrong (4xx)
 * is final. Once an upstream has answered, there is no going back: text from two answers must
 * never be spliced together.
 */
export function openAnswer(c: Context<AppEnv>, request: ChatRequest): Promise<OpenedAnswer> {
  return openAnswerIn({ config: c.var.config, env: c.env, signal: c.req.raw.signal }, request)
}

/** Where an answer is opened: a request's context, or a Durable Object that owns the answer. */
export interface AnswerScope {
  config: GatewayConfig
  /** The bindings that hold the upstreams' secrets. */
  env: Env
  /** Aborts when whoever waits for the answer goes away. */
  signal: AbortSignal
}

/** `openAnswer` outside a route. */
export async function openAnswerIn({ config, env, signal }: AnswerScope, request: ChatRequest): Promise<OpenedAnswer> {
  const { name, model } = modelFor(config, request.model)
  const refusals: GatewayError[] = []
  for (const candidate of [name, ...model.fallbacks]) {
    if (!config.models[candidate]!.vision && hasImages(request)) {
      // The model asked for is refused plainly; a fallback that cannot see the images is passed over.
      if (candidate === name) refuseImages(request, candidate)
      continue
    }
    try {
      const stream = await openUpstream(adapterFor(candidate, config.models[candidate]!, env), request, {
        headersTimeoutMs: config.upstreamHeadersTimeoutMs,
        signal,
      })
      return { model: name, upstream: candidate, stream }
    } catch (error) {
      if (!(error instanceof GatewayError) || !error.retryable || signal.aborted) throw error
      console.log(
        JSON.stringify({ level: 'warn', msg: 'upstream refused, trying the next', model: candidate, code: error.code }),
      )
      refusals.push(error)
    }
  }
  throw lastRefusal(refusals)
}

function hasImages(request: ChatRequest): boolean {
  return !imagesOf(request).next().done
}

/** A model without vision is never sent an image: the 400 names the first one. */
function refuseImages(request: ChatRequest, model: string): void {
  for (const { path } of imagesOf(request)) {
    throw unsupportedParameter(path, `model "${model}" does not accept images.`)
  }
}

/**
 * The error to report when every upstream refused: the last one, but with the shortest
 * Retry-After any of them gave, since that is when trying again first makes sense.
 */
function lastRefusal(refusals: GatewayError[]): GatewayError {
  const last = refusals.at(-1)!
  const waits = refusals.map((e) => Number(e.options.retryAfter)).filter((n) => Number.isFinite(n) && n >= 0)
  if (!waits.length || refusals.length === 1) return last
  return new GatewayError(last.status, last.code, last.message, {
    ...last.options,
    retryAfter: String(Math.min(...waits)),
  })
}

/** Streams an opened answer to the client in the given wire format. */
export function streamAnswer(c: Context<AppEnv>, answer: OpenedAnswer, format: StreamFormat): Response {
  const { config } = c.var
  const { model, upstream } = answer
  const stream = chatEventStream(answer.stream, {
    start: { id: `chat_${crypto.randomUUID()}`, model, upstream, created: Math.floor(Date.now() / 1000) },
    format,
    heartbeatMs: config.heartbeatMs,
    idleTimeoutMs: config.upstreamIdleTimeoutMs,
    deadlineMs: config.streamDeadlineMs,
    onEnd: (summary) => logAnswer(c.req.path, model, upstream, summary),
  })
  return new Response(stream, { headers: EVENT_STREAM_HEADERS })
}

/**
 * One structured line per answer: what happened and how long it took, never what was said.
 * `usage` is what the upstream reported, if anything; `partial` marks counts of an answer that
 * was cancelled or failed, so accounting can tell them from a finished answer's.
 */
export function logAnswer(path: string, model: string, upstream: string, summary: StreamSummary): void {
  const partial = summary.outcome !== 'done'
  console.log(
    JSON.stringify({ level: 'info', msg: 'answer ended', path, status: 200, model, upstream, partial, ...summary }),
  )
}
