import type { Context } from 'hono'
import type { AppEnv } from '../../app-env'
import { Watchdog } from '../../pipeline/watchdog'

/** JSON may begin with whitespace: what a whole answer sends while it is not ready yet. */
const KEEPALIVE = new TextEncoder().encode('\n')

/**
 * A whole answer (`stream: false`) that notices its client leaving, and cancels the work when it
 * does. `answer` makes the response (or throws the error the surface renders); it is given a
 * signal that aborts when the client has gone, and must stop, and cancel its upstream, on it.
 *
 * Why the body may start early: a Worker learns that a client has gone from `request.signal`
 * (the `enable_request_signal` flag), but not everywhere: under `wrangler dev` it never fires
 * for a response not yet begun (issue 29, finding 7: the upstream ran on, 3 s and more after the
 * client closed its socket). What always tells is a write that fails: workerd cancels a
 * response's body when its client is gone and a chunk cannot be delivered. So an answer not
 * ready within a heartbeat (`HEARTBEAT_MS`) starts its body: `200`, `Content-Type:
 * application/json`, a newline, one more each heartbeat, then the JSON (which may begin with
 * whitespace, so every JSON parser reads it as if nothing came before).
 *
 * An answer ready or failed within the first heartbeat keeps its own status (a refused or broken
 * answer is then a 4xx or 5xx as before). One that fails later cannot change a status already
 * sent: its body is the surface's error body (`errorResponse`), which has no `choices`, no
 * `content` and no `output`, so no client can take it for an answer; the SDKs, which look only
 * at the status, hand it back as the answer's object, and code reading the answer from it fails
 * (see docs/openai-compatible.md).
 */
export async function wholeAnswer(
  c: Context<AppEnv>,
  answer: (left: AbortSignal) => Promise<Response>,
  errorResponse: (error: Error) => Response,
): Promise<Response> {
  const { heartbeatMs } = c.var.config
  const leaving = new AbortController()
  const requestSignal = c.req.raw.signal
  const leave = () => leaving.abort()
  if (requestSignal.aborted) leaving.abort()
  else requestSignal.addEventListener('abort', leave, { once: true })
  const pending = answer(leaving.signal).finally(() => requestSignal.removeEventListener('abort', leave))

  let timer: ReturnType<typeof setTimeout> | undefined
  const late = await Promise.race([
    pending.then(
      () => false,
      () => false,
    ),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), heartbeatMs))),
  ])
  clearTimeout(timer)
  if (!late) return pending
  const body = startedBody(pending, errorResponse, heartbeatMs, leaving)
  return new Response(body, { headers: { 'Content-Type': 'application/json' } })
}

/**
 * The body of an answer that was not ready within a heartbeat: whitespace now and each
 * heartbeat, then the answer's JSON, or its error's. Cancelled (the client is gone), it aborts
 * `leaving`, which stops the answer.
 */
function startedBody(
  pending: Promise<Response>,
  errorResponse: (error: Error) => Response,
  heartbeatMs: number,
  leaving: AbortController,
): ReadableStream<Uint8Array> {
  let open = true
  let keepalive: Watchdog | undefined
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(KEEPALIVE)
      keepalive = new Watchdog(heartbeatMs, () => open && controller.enqueue(KEEPALIVE))
      void pending
        .catch((error: unknown) => errorResponse(error instanceof Error ? error : new Error(String(error))))
        .then((response) => response.arrayBuffer())
        .then(
          (json) => {
            if (!open) return
            open = false
            keepalive!.stop()
            controller.enqueue(new Uint8Array(json))
            controller.close()
          },
          (error: unknown) => {
            if (!open) return
            open = false
            keepalive!.stop()
            controller.error(error)
          },
        )
    },
    cancel() {
      open = false
      keepalive?.stop()
      leaving.abort()
    },
  })
}
