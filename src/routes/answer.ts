import type { Context } from 'hono'
import {
  releaseAnswer,
  settleAnswer,
  settleInBackground,
  withinCeiling,
  type Admission,
  type Lease,
} from '../access/admission'
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
      const candidateModel = config.models[candidate]!
      // A fallback may allow fewer tokens than the model asked for: its own ceiling holds too.
      const maxTokens = withinCeiling(request.max_tokens, candidateModel)
      const candidateRequest = maxTokens === request.max_tokens ? request : { ...request, max_tokens: maxTokens }
      const stream = await openUpstream(adapterFor(candidate, candidateModel, env), candidateRequest, {
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

/** Opens the upstream for an admitted answer; if it never starts, its lease is given back at once. */
export async function openAdmittedAnswer(c: Context<AppEnv>, { lease, request }: Admission): Promise<OpenedAnswer> {
  try {
    return await openAnswer(c, request)
  } catch (error) {
    settleInBackground(c, releaseAnswer(c.env, lease))
    throw error
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

/**
 * Streams an opened answer to the client in the given wire format. With a lease, the answer's
 * usage is settled against it when the stream ends, however it ends.
 */
export function streamAnswer(c: Context<AppEnv>, answer: OpenedAnswer, format: StreamFormat, lease?: Lease): Response {
  const { config } = c.var
  const { model, upstream } = answer
  const stream = chatEventStream(answer.stream, {
    start: { id: `chat_${crypto.randomUUID()}`, model, upstream, created: Math.floor(Date.now() / 1000) },
    format,
    heartbeatMs: config.heartbeatMs,
    idleTimeoutMs: config.upstreamIdleTimeoutMs,
    deadlineMs: config.streamDeadlineMs,
    onEnd: (summary) => {
      logAnswer(c.req.path, model, upstream, summary, lease?.principal.name)
      if (lease) settleInBackground(c, settleAnswer(c.env, lease, summary))
    },
  })
  return new Response(stream, { headers: EVENT_STREAM_HEADERS })
}

/**
 * One structured line per answer: what happened and how long it took, never what was said.
 * `usage` is what the upstream reported, if anything; `partial` marks counts of an answer that
 * was cancelled or failed, so accounting can tell them from a finished answer's. `principal` is
 * who asked: a key's name, a token's `sub`, or `anonymous`; never a credential.
 */
export function logAnswer(
  path: string,
  model: string,
  upstream: string,
  summary: StreamSummary,
  principal?: string,
): void {
  const partial = summary.outcome !== 'done'
  console.log(
    JSON.stringify({
      level: 'info',
      msg: 'answer ended',
      path,
      status: 200,
      principal,
      model,
      upstream,
      partial,
      ...summary,
    }),
  )
}
