import type { ErrorEventData, FinishReason, ReasoningEventData, UsageEventData } from '../events/chat-events'
import type { UpstreamStream } from '../providers/types'

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

/**
 * Reads a whole answer for clients that asked not to stream. Resolves only with a complete
 * answer; anything else (an upstream error, a truncated stream, silence past `idleTimeoutMs`, the
 * deadline) rejects with the error a stream would have ended with.
 */
export async function collectAnswer(
  upstream: UpstreamStream,
  { idleTimeoutMs, deadlineMs }: { idleTimeoutMs: number; deadlineMs: number },
): Promise<CollectedAnswer> {
  const reader = upstream.body.getReader()
  const deadline = Date.now() + deadlineMs
  let text = ''
  let reasoning = ''
  const thinking: ReasoningEventData[] = []
  const toolCalls: CollectedToolCall[] = []
  let usage: UsageEventData | undefined
  try {
    for (;;) {
      const wait = Math.min(idleTimeoutMs, deadline - Date.now())
      const result = await readWithin(reader, wait)
      if (result === 'timeout') {
        throw Date.now() >= deadline
          ? answerError('deadline_exceeded', 'The answer took longer than the gateway allows.', false)
          : answerError('upstream_idle_timeout', 'The model provider went silent for too long.', true)
      }
      const events = result.done ? upstream.decoder.end() : upstream.decoder.decode(result.value)
      for (const event of events) {
        if (event.type === 'text') text += event.text
        else if (event.type === 'reasoning') {
          reasoning += event.text
          addThinking(thinking, event)
        } else if (event.type === 'tool_call') {
          const call = (toolCalls[event.index] ??= { id: '', name: '', arguments: '' })
          if (event.id !== undefined) call.id = event.id
          if (event.name !== undefined) call.name = event.name
          call.arguments += event.argumentsDelta
        } else if (event.type === 'usage') usage = event.usage
        else if (event.type === 'done') {
          // Indexes count from 0 without gaps; a gap (a broken upstream) is left out, not sent as a hole.
          return {
            text,
            reasoning,
            thinking,
            toolCalls: toolCalls.filter(Boolean),
            finishReason: event.finishReason,
            ...(event.stopSequence !== undefined && { stopSequence: event.stopSequence }),
            usage,
          }
        } else if (event.type === 'error') throw answerError(event.code, event.message, event.retryable)
      }
      if (result.done) throw answerError('upstream_truncated', 'The model provider ended the stream early.', true)
    }
  } catch (error) {
    if (error instanceof AnswerError) error.textChars = text.length
    throw error
  } finally {
    reader.cancel().catch(() => {})
  }
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
  /** Characters of text received before the failure, for estimating what the partial answer cost. */
  textChars = 0

  constructor(readonly data: ErrorEventData) {
    super(data.message)
  }
}

function answerError(code: string, message: string, retryable: boolean): AnswerError {
  return new AnswerError({ code, message, retryable })
}

async function readWithin(reader: ReadableStreamDefaultReader<Uint8Array>, ms: number) {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), Math.max(0, ms))))
  try {
    return await Promise.race([
      reader.read().catch(() => {
        throw answerError('upstream_connection_lost', 'The connection to the model provider broke off.', true)
      }),
      timeout,
    ])
  } finally {
    if (timer !== undefined) clearTimeout(timer)
  }
}
