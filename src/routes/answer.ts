import type { Context } from 'hono'
import { releaseAnswer, settleAnswer, type Admission, type Lease } from '../access/admission'
import { inBackground } from '../background'
import type { AppEnv } from '../app-env'
import { chatEventStream } from '../pipeline/chat-event-stream'
import { logAnswer } from '../pipeline/log-answer'
import { openAnswer, type OpenedAnswer } from '../pipeline/open-answer'
import type { StreamFormat } from '../sse/format'
import { EVENT_STREAM_HEADERS } from '../sse/headers'

/**
 * Opens the upstream for an admitted answer, for as long as the request's client waits (see
 * `openAnswer`); if it never starts, its lease is given back at once.
 */
export async function openAdmittedAnswer(c: Context<AppEnv>, { lease, request }: Admission): Promise<OpenedAnswer> {
  try {
    return await openAnswer({ config: c.var.config, env: c.env, signal: c.req.raw.signal }, request)
  } catch (error) {
    inBackground(c, releaseAnswer(c.env, lease))
    throw error
  }
}

/**
 * Streams an opened answer to the client in the given wire format. With a lease, the answer's
 * usage is settled against it when the stream ends, however it ends.
 */
export function streamAnswer(
  c: Context<AppEnv>,
  answer: OpenedAnswer,
  format: StreamFormat,
  lease?: Lease,
  headers: Readonly<Record<string, string>> = EVENT_STREAM_HEADERS,
): Response {
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
      if (lease) inBackground(c, settleAnswer(c.env, lease, summary))
    },
  })
  return new Response(stream, { headers })
}
