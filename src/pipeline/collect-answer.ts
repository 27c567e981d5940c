import type { AnswerSummary } from '../events/answer-summary'
import type { ErrorEventData, FinishReason, ReasoningEventData, UsageEventData } from '../events/chat-events'
import type { LiveEncoder } from '../events/encoders'
import type { UpstreamStream } from '../providers/types'
import { chatEventStream } from './chat-event-stream'

export interface CollectedAnswer {
  text: string
  /** The model's thinking, joined; empty when it sent none. */
  reasoning: string
  /**
   * The same thinking as blocks, each with the signature that sealed it (or a redacted block),
   * for surfaces whose clients send thinking back (Anthropic's Messages).
   */
  thinking: ReasoningEventData[]
  /** The tool calls, in index order, each with its arguments joined. */
  toolCalls: CollectedToolCall[]
  finishReason: FinishReason
  /** The stop sequence that ended the answer, where the provider says. */
  stopSequence?: string
  usage?: UsageEventData
}

export interface CollectedToolCall {
  id: string
  name: string
  arguments: string
}

/** The code an answer ends with when whoever waited for it left first. */
export const CLIENT_CLOSED = 'client_closed'

/**
 * Reads a whole answer for clients that asked not to stream, through the same pipeline a stream
 * goes through (`chatEventStream`, its events collected rather than encoded), so its timeouts,
 * its one terminal event, and what the opened answer's stream does below it (retries before the
 * first event, continuation after it) are the same streaming or not. Resolves only with a
 * complete answer; anything else (an upstream error, a truncated stream, silence past
 * `idleTimeoutMs`, the deadline) rejects with the error a stream would have ended with. When
 * `signal` aborts (the client left), the pipeline and its upstream are cancelled at once and it
 * rejects with `client_closed`: nobody pays for the rest of an answer nobody waits for.
 */
export async function collectAnswer(
  upstream: UpstreamStream,
  { idleTimeoutMs, deadlineMs, signal }: { idleTimeoutMs: number; deadlineMs: number; signal: AbortSignal },
): Promise<CollectedAnswer> {
  const collected = collecting()
  const events = chatEventStream(upstream, {
    start: { id: '', model: '', upstream: '', created: 0 },
    encoder: collected.encoder,
    // Nobody reads heartbeats here (`wholeAnswer` keeps the client's connection alive): rare and empty.
    heartbeatMs: deadlineMs,
    idleTimeoutMs,
    deadlineMs,
  })
  const reader = events.getReader()
  // Cancelling ends the pending read (as `done`) and, through the pipeline, the upstream.
  const clientLeft = () => void reader.cancel().catch(() => {})
  if (signal.aborted) clientLeft()
  else signal.addEventListener('abort', clientLeft, { once: true })
  try {
    while (!(await reader.read()).done);
  } finally {
    signal.removeEventListener('abort', clientLeft)
  }
  const { answer, ending } = collected
  if (ending?.type === 'done') return answer
  const error = new AnswerError(
    ending?.type === 'error'
      ? ending.error
      : { code: CLIENT_CLOSED, message: 'The client closed the request.', retryable: false },
  )
  error.streamed = {
    textChars: answer.text.length,
    reasoningChars: answer.reasoning.length,
    toolCallChars: toolCallChars(answer.toolCalls),
  }
  throw error
}

/** An encoder that writes nothing and keeps the answer: the pipeline's events, collected. */
function collecting() {
  const toolCalls: CollectedToolCall[] = []
  const answer: CollectedAnswer = { text: '', reasoning: '', thinking: [], toolCalls: [], finishReason: 'stop' }
  const state: { answer: CollectedAnswer; ending?: { type: 'done' } | { type: 'error'; error: ErrorEventData } } = {
    answer,
  }
  const encoder: LiveEncoder = {
    start: () => '',
    text(text) {
      answer.text += text
      return ''
    },
    reasoning(text, seal) {
      answer.reasoning += text
      addThinking(answer.thinking, { text, ...seal })
      return ''
    },
    toolCall(event) {
      const call = (toolCalls[event.index] ??= { id: '', name: '', arguments: '' })
      if (event.id !== undefined) call.id = event.id
      if (event.name !== undefined) call.name = event.name
      call.arguments += event.argumentsDelta
      // Indexes count from 0 without gaps; a gap (a broken upstream) is left out, not sent as a hole.
      answer.toolCalls = toolCalls.filter(Boolean)
      return ''
    },
    usage(usage) {
      answer.usage = usage
      return ''
    },
    done(finishReason, stopSequence) {
      answer.finishReason = finishReason
      if (stopSequence !== undefined) answer.stopSequence = stopSequence
      state.ending = { type: 'done' }
      return ''
    },
    error(error) {
      state.ending = { type: 'error', error }
      return ''
    },
    heartbeat: () => '',
  }
  return Object.assign(state, { encoder })
}

/** Adds a piece of thinking to its block: a new block after a sealed or redacted one. */
function addThinking(blocks: ReasoningEventData[], { text, signature, redacted }: ReasoningEventData): void {
  if (redacted !== undefined) {
    blocks.push({ text: '', redacted })
    return
  }
  let last = blocks.at(-1)
  if (!last || last.signature !== undefined || last.redacted !== undefined) blocks.push((last = { text: '' }))
  last.text += text
  if (signature !== undefined) last.signature = signature
}

/** An answer's failure, carrying the same fields as a stream's `error` event. */
export class AnswerError extends Error {
  /** What was received before the failure, for estimating what the partial answer cost. */
  streamed: Pick<AnswerSummary, 'textChars' | 'reasoningChars' | 'toolCallChars'> = {}

  constructor(readonly data: ErrorEventData) {
    super(data.message)
  }
}

/** Characters of tool calls: their names and arguments, as the summary counts them. */
export function toolCallChars(calls: readonly CollectedToolCall[]): number {
  let chars = 0
  for (const call of calls) if (call) chars += call.name.length + call.arguments.length
  return chars
}
