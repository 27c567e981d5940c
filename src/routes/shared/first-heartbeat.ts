import type { Context } from 'hono'
import type { Admission } from '../../access/admission'
import type { AppEnv } from '../../app-env'
import { GatewayError } from '../../errors'
import type { WireFormat } from '../../formats/types'
import { Watchdog } from '../../pipeline/watchdog'
import { answerStream, openAdmittedAnswer, streamAnswer, streamHeaders } from './answer'

const utf8 = new TextEncoder()

export interface FirstHeartbeatOptions {
  /** The id the answer's `start` carries. */
  startId?: string
  /** A refusal in the surface's terms (Messages names the caller's paths), thrown or written. */
  inTerms?: (error: unknown) => unknown
}

/**
 * Opens an admitted answer and streams it in a wire format, starting the response no later than
 * its first heartbeat (issue 26, "the first token decides").
 *
 * The response waits for the answer's first real event, so that every retry and fallback before
 * it is invisible: one status, one set of headers, one stream. But a model can be silent for
 * long before its first token (hidden reasoning, a slow queue, a retry's backoff), and a proxy
 * with a 30–100 s header timeout cuts a response that has not begun. So an answer that has not
 * opened within a heartbeat (`HEARTBEAT_MS`) has its response started: `200`, the format's
 * headers, `X-Gateway-Attempts` as counted so far (it may undercount: later retries are not in
 * it), and the format's heartbeat, again every heartbeat. The opening goes on unseen; when the
 * first event comes the stream goes on exactly as an answer opened in time does (the pipeline's
 * own stream, `start` first). Should the opening finally fail, the stream is the answer's `start`
 * and the format's error event, with the refusal's code and message, never a clean end; the
 * ledger has the refusal as it has one that came in time (`recordRefusal`).
 *
 * An answer that opens, or is refused, within the heartbeat is what it always was: the stream
 * straight from the pipeline, or the refusal thrown for the surface to render as a 4xx or 5xx.
 * The race is only at the start: an answer that opens in time costs nothing more per chunk.
 *
 * The client leaving aborts the opening: the request's signal, or, since under `wrangler dev`
 * that signal does not always fire, the started body being cancelled (see `whole-answer.ts`).
 */
export async function streamFromFirstHeartbeat<Options extends object>(
  c: Context<AppEnv>,
  admission: Admission,
  format: WireFormat<Options>,
  options: Options,
  { startId = `chat_${crypto.randomUUID()}`, inTerms = (error) => error }: FirstHeartbeatOptions = {},
): Promise<Response> {
  const { heartbeatMs } = c.var.config
  const leaving = new AbortController()
  const signal = AbortSignal.any([c.req.raw.signal, leaving.signal])
  const tally = { attempts: 0 }
  const opening = openAdmittedAnswer(c, admission, { signal, tally })

  let timer: ReturnType<typeof setTimeout> | undefined
  const due = new Promise<'due'>((resolve) => (timer = setTimeout(() => resolve('due'), heartbeatMs)))
  const settled = () => 'settled' as const
  const first = await Promise.race([opening.then(settled, settled), due])
  clearTimeout(timer)
  if (first !== 'due') {
    const answer = await opening.catch((error: unknown) => {
      throw inTerms(error)
    })
    return streamAnswer(c, answer, admission.lease, format, options, { startId })
  }

  const answerBytes = opening.then(
    (answer) => answerStream(c, answer, admission.lease, format, options, startId),
    (error: unknown) => refusalStream(c, admission, format, options, startId, inTerms(error)),
  )
  const beat = utf8.encode(format.live({ ...options, retryMs: c.var.config.retryMs }).heartbeat())
  return new Response(startedStream(answerBytes, beat, heartbeatMs, leaving), {
    headers: streamHeaders(format, tally.attempts),
  })
}

/**
 * The body of an answer started by its heartbeat: the heartbeat now and each heartbeat after,
 * then `answerBytes` (the answer, or its refusal). Cancelled, it aborts `leaving`, which stops
 * the opening, and cancels the answer if it has opened already.
 */
function startedStream(
  answerBytes: Promise<ReadableStream<Uint8Array>>,
  beat: Uint8Array,
  heartbeatMs: number,
  leaving: AbortController,
): ReadableStream<Uint8Array> {
  let keepalive: Watchdog | undefined
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined
  let gone = false
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controller.enqueue(beat)
        keepalive = new Watchdog(heartbeatMs, () => controller.enqueue(beat))
        // Before any read of the answer: from its first byte on, the pipeline keeps the beat.
        answerBytes.finally(() => keepalive!.stop()).catch(() => {})
      },
      async pull(controller) {
        if (!reader) {
          const stream = await answerBytes
          // Cancelled meanwhile: `cancel` has the stream.
          if (gone) return
          reader = stream.getReader()
        }
        const { done, value } = await reader.read()
        if (done) controller.close()
        else controller.enqueue(value)
      },
      cancel(reason) {
        gone = true
        keepalive?.stop()
        leaving.abort()
        if (reader) return reader.cancel(reason)
        return answerBytes.then((stream) => stream.cancel(reason))
      },
    },
    { highWaterMark: 0 },
  )
}

/**
 * A refusal that came after the response began, in the format: the answer's `start`, then the
 * error event (no `done`, no `[DONE]`, no `message_stop`), so no client takes it for an answer.
 * Its message is the refusal's, already fit for a client (`scrub.ts`), as a 5xx body's is.
 */
function refusalStream<Options extends object>(
  c: Context<AppEnv>,
  { request }: Admission,
  format: WireFormat<Options>,
  options: Options,
  startId: string,
  error: unknown,
): ReadableStream<Uint8Array> {
  const refusal =
    error instanceof GatewayError
      ? error
      : new GatewayError(500, 'internal_error', 'The gateway failed to open the answer.', { retryable: true })
  const encoder = format.live({ ...options, retryMs: c.var.config.retryMs })
  const start = { id: startId, model: request.model, upstream: request.model, created: Math.floor(Date.now() / 1000) }
  const { code, message, retryable } = refusal
  const bytes = utf8.encode(encoder.start(start) + encoder.error({ code, message, retryable }))
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes)
      controller.close()
    },
  })
}
