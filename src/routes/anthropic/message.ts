import type { Context } from 'hono'
import type { Lease } from '../../access/leases'
import type { AppEnv } from '../../app-env'
import { GatewayError } from '../../errors'
import type { AnswerSummary } from '../../events/answer-summary'
import { AnswerError, CLIENT_CLOSED, collectAnswer, toolCallChars } from '../../pipeline/collect-answer'
import { messageBody } from '../../dialects/messages/message'
import type { OpenedAnswer } from '../../pipeline/open-answer'
import { endsAnswer } from '../shared/answer'
import { clientClosed } from '../shared/stored-answer'

/**
 * A whole `message` for a client that asked not to stream (`stream` unset or false): only a
 * complete answer is ever sent as one; any failure is an error in Anthropic's shape instead.
 * `left` aborts when the client has gone (see `wholeAnswer`, which runs this). `endedElsewhere`:
 * the answer is read from the response cache, whose object ends it. The message itself is the
 * dialect's (`messageBody`, `../../dialects/messages/message.ts`).
 */
export async function message(
  c: Context<AppEnv>,
  opened: OpenedAnswer,
  lease: Lease,
  left: AbortSignal,
  { endedElsewhere = false }: { endedElsewhere?: boolean } = {},
): Promise<Response> {
  const { model } = opened
  const end = endsAnswer(c, opened, lease)
  // An answer read from the cache is ended (settled, recorded) by its object, not here.
  const ended = (summary: AnswerSummary) => endedElsewhere || end(summary)
  const startedAt = Date.now()
  const { config } = c.var
  try {
    const answer = await collectAnswer(opened.stream, {
      idleTimeoutMs: config.upstreamIdleTimeoutMs,
      deadlineMs: config.streamDeadlineMs,
      // The client leaving cancels the upstream, as a stream's cancel does on every other path.
      signal: left,
    })
    ended({
      outcome: 'done',
      finishReason: answer.finishReason,
      usage: answer.usage,
      textChars: answer.text.length,
      reasoningChars: answer.reasoning.length,
      toolCallChars: toolCallChars(answer.toolCalls),
      durationMs: Date.now() - startedAt,
    })
    return c.json(messageBody(answer, model))
  } catch (error) {
    if (!(error instanceof AnswerError)) {
      ended({ outcome: 'error', errorCode: 'internal_error', durationMs: Date.now() - startedAt })
      throw error
    }
    if (error.data.code === CLIENT_CLOSED) {
      ended({ outcome: 'cancelled', ...error.streamed, durationMs: Date.now() - startedAt })
      return clientClosed()
    }
    ended({
      outcome: 'error',
      errorCode: error.data.code,
      ...error.streamed,
      durationMs: Date.now() - startedAt,
    })
    const status = error.data.code.includes('timeout') || error.data.code === 'deadline_exceeded' ? 504 : 502
    throw new GatewayError(status, error.data.code, error.data.message, { retryable: error.data.retryable })
  }
}
