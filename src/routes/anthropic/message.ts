import type { Context } from 'hono'
import type { Lease } from '../../access/leases'
import type { AppEnv } from '../../app-env'
import { GatewayError } from '../../errors'
import type { AnswerSummary } from '../../events/answer-summary'
import { toAnthropicUsage, toStopReason } from '../../dialects/messages/format'
import {
  AnswerError,
  CLIENT_CLOSED,
  collectAnswer,
  toolCallChars,
  type CollectedAnswer,
} from '../../pipeline/collect-answer'
import type { OpenedAnswer } from '../../pipeline/open-answer'
import { endsAnswer } from '../shared/answer'
import { clientClosed } from '../shared/stored-answer'

/**
 * A whole `message` for a client that asked not to stream (`stream` unset or false): only a
 * complete answer is ever sent as one; any failure is an error in Anthropic's shape instead.
 * `left` aborts when the client has gone (see `wholeAnswer`, which runs this). `endedElsewhere`:
 * the answer is read from the response cache, whose object ends it.
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
    const stopReason = toStopReason(answer.finishReason, answer.stopSequence)
    return c.json({
      id: `msg_${crypto.randomUUID().replaceAll('-', '')}`,
      type: 'message',
      role: 'assistant',
      model,
      content: contentOf(answer),
      stop_reason: stopReason,
      stop_sequence: stopReason === 'stop_sequence' ? answer.stopSequence : null,
      usage: answer.usage ? toAnthropicUsage(answer.usage) : { input_tokens: 0, output_tokens: 0 },
    })
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

/** The message's blocks, in the order Anthropic gives them: thinking, text, then tool calls. */
function contentOf(answer: CollectedAnswer) {
  const content: object[] = answer.thinking.map(({ text, signature, redacted }) =>
    redacted !== undefined
      ? { type: 'redacted_thinking', data: redacted }
      : { type: 'thinking', thinking: text, signature: signature ?? '' },
  )
  if (answer.text) content.push({ type: 'text', text: answer.text })
  for (const call of answer.toolCalls) {
    content.push({ type: 'tool_use', id: call.id, name: call.name, input: parseInput(call.arguments) })
  }
  return content
}

/** A tool call's input; `{}` for arguments cut short (the answer ran out of tokens mid-call). */
function parseInput(json: string): unknown {
  try {
    return JSON.parse(json || '{}')
  } catch {
    return {}
  }
}
