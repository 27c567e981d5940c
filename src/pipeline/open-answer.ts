import type { GatewayConfig } from '../config/load'
import { withinCeiling } from '../config/models'
import { GatewayError, unsupportedParameter } from '../errors'
import { log } from '../log'
import type { UpstreamStream } from '../providers/types'
import { imagesOf, type ChatRequest } from '../request/chat-request'
import type { UpstreamRequest } from '../request/native-request'
import { attemptModel, type AttemptContext, type Served } from './attempts'
import { continuing } from './continuation'

/** An upstream that has started answering, and which model it serves. */
export interface OpenedAnswer {
  /** The model the request asked for. */
  model: string
  /** The model answering: `model`, or the fallback that stood in for it. */
  upstream: string
  /** Its first real event already read (`first-event.ts`), and handed back first. */
  stream: UpstreamStream
  /** Upstream requests made for this answer, across retries and fallbacks (1 on the happy path). */
  attempts: number
  /** The name of the secret whose key served it (never the key); none for a keyless model. */
  keySecret?: string
  /**
   * The continuations that took over after the upstream died mid-answer (`continue_on_failure`),
   * each with the model and key that served it; filled while the answer streams.
   */
  continued?: ReadonlyArray<{ upstream: string; keySecret?: string }>
}

/** Where an answer is opened: a request's context, or a Durable Object that owns the answer. */
export interface AnswerScope {
  config: GatewayConfig
  /** The bindings that hold the upstreams' secrets. */
  env: Env
  /** Aborts when whoever waits for the answer goes away. */
  signal: AbortSignal
  /**
   * Keeps work going after the answer has moved on: the reports to the upstreams' shared circuit
   * (`shared-breaker.ts`). A route's `waitUntil`, or the answer's object's; without one, they run
   * as long as the isolate does.
   */
  waitUntil?: (promise: Promise<unknown>) => void
  /**
   * Counts the upstream requests as they are made, for a caller that must say how many there
   * were before the answer opens (a stream started by its heartbeat); `openAnswer` counts in it.
   */
  tally?: { attempts: number }
}

/**
 * Opens the upstream for a validated request and waits for its first real event. Each model is
 * tried up to `1 + retries` times when it fails in a way a second try might not (unreachable,
 * 408, 409, 429, 5xx, header timeout, a stream that ends before its first event), with backoff,
 * on the next key of its pool after a 429, and not at all while its circuit is open
 * (`attempts.ts`); then the model's fallbacks, in order, the same way. A failure that says the
 * request itself is wrong (400, 401, 403, 404) is final. The client leaving stops it all at once.
 *
 * Nothing reaches the client before the first event, so every retry and fallback is invisible:
 * one status, one set of headers, one stream. After it there is no going back: text from two
 * answers must never be spliced together. A model with `continue_on_failure` instead has the
 * same answer continued when its upstream dies mid-stream (`continuation.ts`): the model that was
 * answering, then the others, asked to go on from the answer so far. The wait for it is bounded by the header timeout plus
 * the idle timeout. The pipeline sends nothing meanwhile; a route whose client must hear something
 * before then starts the response itself (`routes/shared/first-heartbeat.ts`).
 *
 * `fallbacks` are the ones the caller may use (admission filters the model's list by the
 * principal's models); the pipeline knows no principal, so it is told rather than asks.
 */
export async function openAnswer(
  { config, env, signal, waitUntil, tally = { attempts: 0 } }: AnswerScope,
  request: UpstreamRequest & { model: string },
  fallbacks: readonly string[],
): Promise<OpenedAnswer> {
  const name = request.model
  const model = config.models[name]
  // Admission has checked the name; an unknown one here is the gateway's own mistake.
  if (!model) throw new Error(`openAnswer: model "${name}" is not configured`)
  const context = { config, env, signal, waitUntil, tally }
  try {
    const { upstream, served } = await serve(context, request, [name, ...fallbacks])
    const continued: Array<{ upstream: string; keySecret?: string }> = []
    const stream = model.continue_on_failure
      ? continuing(served.stream, {
          idleTimeoutMs: config.upstreamIdleTimeoutMs,
          // The model that was answering first, then the others in their order.
          reopen: async (partial, stopped) => {
            const again = { ...context, signal: AbortSignal.any([signal, stopped]) }
            const order = [upstream, ...[name, ...fallbacks].filter((candidate) => candidate !== upstream)]
            const next = await serve(again, continuationOf(request, partial), order)
            continued.push(
              next.served.keySecret === undefined
                ? { upstream: next.upstream }
                : { upstream: next.upstream, keySecret: next.served.keySecret },
            )
            return next.served.stream
          },
        })
      : served.stream
    return {
      model: name,
      upstream,
      stream,
      // Read when the answer ends, so they count the continuations too.
      get attempts() {
        return tally.attempts
      },
      continued,
      ...(served.keySecret !== undefined && { keySecret: served.keySecret }),
    }
  } catch (error) {
    if (error instanceof Error) attemptsBefore.set(error, tally.attempts)
    throw error
  }
}

/**
 * Tries each candidate in order (`attemptModel`: its retries, its key pool, its circuit) until
 * one starts answering; throws the last refusal when none does.
 */
async function serve(
  context: AttemptContext,
  request: UpstreamRequest & { model: string },
  candidates: readonly string[],
): Promise<{ upstream: string; served: Served }> {
  const { config, signal } = context
  const refusals: GatewayError[] = []
  for (const candidate of candidates) {
    if (!config.models[candidate]!.vision && hasImages(request)) {
      // The model asked for is refused plainly; a fallback that cannot see the images is passed over.
      if (candidate === request.model) refuseImages(request, candidate)
      continue
    }
    try {
      const candidateModel = config.models[candidate]!
      // A fallback may allow fewer tokens than the model asked for: its own ceiling holds too.
      const maxTokens = withinCeiling(request.max_tokens, candidateModel)
      const candidateRequest = maxTokens === request.max_tokens ? request : { ...request, max_tokens: maxTokens }
      return { upstream: candidate, served: await attemptModel(context, candidate, candidateModel, candidateRequest) }
    } catch (error) {
      if (!(error instanceof GatewayError) || !error.retryable || signal.aborted) throw error
      log.warn('upstream refused, trying the next', { model: candidate, code: error.code })
      refusals.push(error)
    }
  }
  throw lastRefusal(refusals)
}

/**
 * The request that continues an answer from `partial`: the same conversation with the answer so
 * far as a trailing assistant message, which the model continues (a prefill). The caller's own
 * body is left out: the gateway's translation carries the prefill to every provider alike.
 */
function continuationOf(
  request: UpstreamRequest & { model: string },
  partial: string,
): ChatRequest & { model: string } {
  const own: ChatRequest & { model: string; native?: unknown } = { ...request }
  delete own.native
  return { ...own, messages: [...own.messages, { role: 'assistant', content: partial }] }
}

/** How many upstream requests an answer that never began had made, by the error it failed with. */
const attemptsBefore = new WeakMap<Error, number>()

/**
 * The attempts `openAnswer` made before failing with `error`; undefined for an error it did not
 * throw (one rebuilt from a Durable Object's refusal, say).
 */
export function attemptsOf(error: unknown): number | undefined {
  return error instanceof Error ? attemptsBefore.get(error) : undefined
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
