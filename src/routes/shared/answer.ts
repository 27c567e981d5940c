import type { Context } from 'hono'
import type { Admission } from '../../access/admission'
import type { Lease } from '../../access/leases'
import type { AppEnv } from '../../app-env'
import { GatewayError } from '../../errors'
import type { AnswerSummary } from '../../events/answer-summary'
import type { WireFormat } from '../../formats/types'
import { chatEventStream } from '../../pipeline/chat-event-stream'
import { relayAnswer } from '../../pipeline/relay-answer'
import { attemptsOf, openAnswer, type OpenedAnswer } from '../../pipeline/open-answer'
import { endAnswer } from '../../usage/end-answer'
import { inBackground } from './background'

/** The response header that says how many upstream requests an answer took. */
export const ATTEMPTS_HEADER = 'X-Gateway-Attempts'

/**
 * Says on a response how many upstream requests its answer took to start: retries and fallbacks
 * are otherwise invisible. For direct, whole and stored answers alike.
 */
export function withAttempts(response: Response, attempts: number): Response {
  response.headers.set(ATTEMPTS_HEADER, String(attempts))
  return response
}

/** What a route that starts its response early tells the opening (`first-heartbeat.ts`). */
export interface OpeningOptions {
  /** Aborts when the client has gone: the request's signal, or one that also hears the body cancelled. */
  signal?: AbortSignal
  /** Counts the upstream requests as they are made, read before the answer has opened. */
  tally?: { attempts: number }
}

/**
 * Opens the upstream for an admitted answer, for as long as the request's client waits (see
 * `openAnswer`); if it never starts, its lease is given back at once.
 */
export async function openAdmittedAnswer(
  c: Context<AppEnv>,
  admission: Admission,
  { signal = c.req.raw.signal, tally }: OpeningOptions = {},
): Promise<OpenedAnswer> {
  const startedAt = Date.now()
  const { request, fallbacks } = admission
  try {
    const scope = {
      config: c.var.config,
      env: c.env,
      signal,
      waitUntil: (p: Promise<unknown>) => inBackground(c, p),
      ...(tally && { tally }),
    }
    return await openAnswer(scope, request, fallbacks)
  } catch (error) {
    recordRefusal(c, admission, error, startedAt, signal)
    throw error
  }
}

/**
 * An admitted answer that never began (every upstream refused, or the model's secret is missing)
 * is still an answer to its caller: the ledger has it as an error with its code and status, and
 * nothing used, so the dashboard's errors by code include the upstream that was down. Ending it
 * also gives its lease back, at once.
 */
export function recordRefusal(
  c: Context<AppEnv>,
  { lease, request }: Admission,
  error: unknown,
  startedAt: number,
  signal: AbortSignal = c.req.raw.signal,
) {
  const refusal = error instanceof GatewayError ? error : undefined
  // A caller who left while the upstream was being opened stopped the answer; nothing failed.
  const left = signal.aborted
  const summary: AnswerSummary = {
    outcome: left ? 'cancelled' : 'error',
    errorCode: left ? undefined : (refusal?.code ?? 'internal_error'),
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    durationMs: Date.now() - startedAt,
  }
  const status = left ? 499 : (refusal?.status ?? 500)
  const end = {
    route: c.req.path,
    model: request.model,
    upstream: request.model,
    summary,
    status,
    ignoredFields: c.var.ignoredFields,
    attempts: attemptsOf(error),
    cache: c.var.cacheStatus,
  }
  inBackground(c, endAnswer(c.env, c.var.config, lease, end))
}

/**
 * Streams an opened answer to the client in a wire format, straight from the pipeline: the
 * client leaving cancels the upstream. The answer is ended (its lease settled, its usage
 * recorded) when the stream ends, however it ends.
 */
export function streamAnswer<Options extends object>(
  c: Context<AppEnv>,
  answer: OpenedAnswer,
  lease: Lease,
  format: WireFormat<Options>,
  options: Options,
  { startId = `chat_${crypto.randomUUID()}` }: { startId?: string } = {},
): Response {
  const stream = answerStream(c, answer, lease, format, options, startId)
  // How many upstream requests it took to get here (retries and fallbacks are otherwise invisible).
  return new Response(stream, { headers: streamHeaders(format, answer.attempts) })
}

/**
 * The bytes of an opened answer in a wire format: the provider's own, relayed, where they are
 * already in the format's dialect (a pass-through: `relayAnswer`); else the pipeline's stream
 * (`chatEventStream`), which writes every event in the format.
 */
export function answerStream<Options extends object>(
  c: Context<AppEnv>,
  answer: OpenedAnswer,
  lease: Lease,
  format: WireFormat<Options>,
  options: Options,
  startId: string,
): ReadableStream<Uint8Array> {
  const { config } = c.var
  const { model, upstream } = answer
  const terms = format.relay?.(options)
  if (terms && answer.stream.raw && terms.dialect === answer.stream.dialect) {
    return relayAnswer(answer.stream, {
      terms,
      heartbeatMs: config.heartbeatMs,
      idleTimeoutMs: config.upstreamIdleTimeoutMs,
      deadlineMs: config.streamDeadlineMs,
      signal: c.req.raw.signal,
      waitUntil: (p) => inBackground(c, p),
      onEnd: endsAnswer(c, answer, lease),
    })
  }
  return chatEventStream(answer.stream, {
    start: { id: startId, model, upstream, created: Math.floor(Date.now() / 1000) },
    encoder: format.live({ ...options, retryMs: config.retryMs }),
    heartbeatMs: config.heartbeatMs,
    idleTimeoutMs: config.upstreamIdleTimeoutMs,
    deadlineMs: config.streamDeadlineMs,
    onEnd: endsAnswer(c, answer, lease),
  })
}

/** A stream's headers in a format, with the attempts its answer took (so far). */
export function streamHeaders(format: WireFormat<never>, attempts: number): Headers {
  const headers = new Headers(format.headers)
  headers.set(ATTEMPTS_HEADER, String(attempts))
  return headers
}

/**
 * What ends an opened answer served in the request's context: `endAnswer` with everything the
 * route knows of it (the models, the attempts and key that served it, the fields it ignored,
 * what the cache did), given the summary once the answer is over.
 */
export function endsAnswer(c: Context<AppEnv>, opened: OpenedAnswer, lease: Lease) {
  const { model, upstream, keySecret, continued } = opened
  const { cacheStatus: cache, ignoredFields, config } = c.var
  const end = { route: c.req.path, model, upstream, keySecret, continued, ignoredFields, cache }
  // Attempts are read at the end: a continuation mid-answer adds to them.
  return (summary: AnswerSummary) =>
    inBackground(c, endAnswer(c.env, config, lease, { ...end, attempts: opened.attempts, summary }))
}
