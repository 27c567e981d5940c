import type { Context } from 'hono'
import type { Admission } from '../../access/admission'
import { releaseAnswer, settleAnswer, type Lease } from '../../access/leases'
import type { AppEnv } from '../../app-env'
import type { AnswerSummary } from '../../events/answer-summary'
import type { WireFormat } from '../../formats/types'
import { chatEventStream } from '../../pipeline/chat-event-stream'
import { openAnswer, type OpenedAnswer } from '../../pipeline/open-answer'
import { recordAnswer } from '../../usage/ledger'
import type { EndedAnswer } from '../../usage/record'
import { inBackground } from './background'

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
): Response {
  const { config } = c.var
  const { model, upstream } = answer
  const stream = chatEventStream(answer.stream, {
    start: { id: `chat_${crypto.randomUUID()}`, model, upstream, created: Math.floor(Date.now() / 1000) },
    encoder: format.live({ ...options, retryMs: config.retryMs }),
    heartbeatMs: config.heartbeatMs,
    idleTimeoutMs: config.upstreamIdleTimeoutMs,
    deadlineMs: config.streamDeadlineMs,
    onEnd: (summary) => {
      inBackground(c, settleAnswer(c.env, lease, summary))
      inBackground(c, recordAnswer(c.env, config, endedAnswer(c.req.path, answer, lease, summary)))
    },
  })
  return new Response(stream, { headers: format.headers })
}

/** What the usage ledger needs to know of an answer that ended in a route. */
export function endedAnswer(
  route: string,
  { model, upstream }: Pick<OpenedAnswer, 'model' | 'upstream'>,
  lease: Lease,
  summary: AnswerSummary,
): EndedAnswer {
  const { kind, name } = lease.principal
  return { route, principal: { kind, name }, model, upstream, summary, estimatedPromptTokens: lease.promptTokens }
}
