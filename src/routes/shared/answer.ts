import type { Context } from 'hono'
import type { Admission } from '../../access/admission'
import { releaseAnswer, settleAnswer, type Lease } from '../../access/leases'
import type { AppEnv } from '../../app-env'
import type { WireFormat } from '../../formats/types'
import { chatEventStream } from '../../pipeline/chat-event-stream'
import { logAnswer } from '../../pipeline/log-answer'
import { openAnswer, type OpenedAnswer } from '../../pipeline/open-answer'
import { inBackground } from './background'

/**
 * Opens the upstream for an admitted answer, for as long as the request's client waits (see
 * `openAnswer`); if it never starts, its lease is given back at once.
 */
export async function openAdmittedAnswer(
  c: Context<AppEnv>,
  { lease, request, fallbacks }: Admission,
): Promise<OpenedAnswer> {
  try {
    return await openAnswer({ config: c.var.config, env: c.env, signal: c.req.raw.signal }, request, fallbacks)
  } catch (error) {
    inBackground(c, releaseAnswer(c.env, lease))
    throw error
  }
}

/**
 * Streams an opened answer to the client in a wire format, straight from the pipeline: the
 * client leaving cancels the upstream. The answer's usage is settled against its lease when the
 * stream ends, however it ends.
 */
export function streamAnswer<Options extends object>(
  c: Context<AppEnv>,
  answer: OpenedAnswer,
  lease: Lease,
  format: WireFormat<Options>,
  options: Options,
  { startId = `chat_${crypto.randomUUID()}` }: { startId?: string } = {},
): Response {
  const { config } = c.var
  const { model, upstream } = answer
  const stream = chatEventStream(answer.stream, {
    start: { id: startId, model, upstream, created: Math.floor(Date.now() / 1000) },
    encoder: format.live({ ...options, retryMs: config.retryMs }),
    heartbeatMs: config.heartbeatMs,
    idleTimeoutMs: config.upstreamIdleTimeoutMs,
    deadlineMs: config.streamDeadlineMs,
    onEnd: (summary) => {
      logAnswer(c.req.path, model, upstream, summary, lease.principal.name)
      inBackground(c, settleAnswer(c.env, lease, summary))
    },
  })
  return new Response(stream, { headers: format.headers })
}
