import type { GatewayConfig } from '../config/load'
import { withinCeiling } from '../config/models'
import { GatewayError, unsupportedParameter } from '../errors'
import { log } from '../log'
import { adapterFor } from '../providers'
import type { UpstreamStream } from '../providers/types'
import { imagesOf, type ChatRequest } from '../request/chat-request'
import { openUpstream } from './open-upstream'

/** An upstream that has started answering, and which model it serves. */
export interface OpenedAnswer {
  /** The model the request asked for. */
  model: string
  /** The model answering: `model`, or the fallback that stood in for it. */
  upstream: string
  stream: UpstreamStream
}

/** Where an answer is opened: a request's context, or a Durable Object that owns the answer. */
export interface AnswerScope {
  config: GatewayConfig
  /** The bindings that hold the upstreams' secrets. */
  env: Env
  /** Aborts when whoever waits for the answer goes away. */
  signal: AbortSignal
}

/**
 * Opens the upstream for a validated request, bounded by the header timeout. When it fails
 * before answering in a way another upstream might not (unreachable, 429, 5xx, header timeout),
 * the model's fallbacks are tried in order. A failure that says the request itself is wrong (4xx)
 * is final. Once an upstream has answered, there is no going back: text from two answers must
 * never be spliced together.
 *
 * `fallbacks` are the ones the caller may use (admission filters the model's list by the
 * principal's models); the pipeline knows no principal, so it is told rather than asks.
 */
export async function openAnswer(
  { config, env, signal }: AnswerScope,
  request: ChatRequest & { model: string },
  fallbacks: readonly string[],
): Promise<OpenedAnswer> {
  const name = request.model
  const model = config.models[name]
  // Admission has checked the name; an unknown one here is the gateway's own mistake.
  if (!model) throw new Error(`openAnswer: model "${name}" is not configured`)
  const refusals: GatewayError[] = []
  for (const candidate of [name, ...fallbacks]) {
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
      log.warn('upstream refused, trying the next', { model: candidate, code: error.code })
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
