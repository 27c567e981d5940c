import { createParser } from 'eventsource-parser'
import type { FinishReason } from '../../schema/chat-events'
import type { UpstreamDecoder, UpstreamEvent } from '../types'

/**
 * Longest an upstream may go without completing an event. A real chunk is well under a
 * kilobyte; past this the upstream is broken or hostile, and buffering more would be unbounded.
 */
const MAX_PENDING_BYTES = 1024 * 1024

/** The parts of a `chat.completion.chunk` this decoder reads. */
interface ChatCompletionChunk {
  choices?: Array<{
    delta?: { content?: string | null; refusal?: string | null }
    finish_reason?: string | null
  }>
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | null
  error?: { message?: string; type?: string; code?: string | null }
}

const FINISH_REASONS: Record<string, FinishReason> = {
  stop: 'stop',
  length: 'length',
  content_filter: 'content_filter',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls',
}

/** Error types (OpenAI's, and the compatible servers' that copy them) worth retrying. */
const RETRYABLE_ERROR = /server_error|overloaded|rate_limit|timeout|unavailable/i

/**
 * Decodes an OpenAI Chat Completions stream (`data: {chunk}` events, then `data: [DONE]`).
 *
 * The answer is complete when `[DONE]` arrives, or when the body ends cleanly after a
 * `finish_reason` (some compatible servers omit `[DONE]`). A body that ends with neither was cut
 * off, and becomes an `upstream_truncated` error.
 */
export function createOpenAIDecoder(): UpstreamDecoder {
  const utf8 = new TextDecoder()
  let batch: UpstreamEvent[] = []
  let finished = false
  let finishReason: FinishReason | undefined
  let pendingBytes = 0

  const emit = (event: UpstreamEvent) => {
    batch.push(event)
    if (event.type === 'done' || event.type === 'error') finished = true
  }

  const parser = createParser({
    onComment: () => {
      pendingBytes = 0
    },
    onEvent: (message) => {
      pendingBytes = 0
      if (finished) return
      if (message.data === '[DONE]') {
        emit({ type: 'done', finishReason: finishReason ?? 'unknown' })
        return
      }
      let chunk: ChatCompletionChunk
      try {
        chunk = JSON.parse(message.data) as ChatCompletionChunk
      } catch {
        emit(malformed('an event that is not JSON'))
        return
      }
      if (chunk.error || message.event === 'error') {
        const error = chunk.error ?? {}
        emit({
          type: 'error',
          code: 'upstream_error',
          message: String(error.message ?? 'The model provider reported an error.').slice(0, 500),
          retryable: RETRYABLE_ERROR.test(`${error.type ?? ''} ${error.code ?? ''}`),
        })
        return
      }
      const choice = chunk.choices?.[0]
      if (choice) {
        // A refusal is the model's answer too; the user should read it.
        const text = choice.delta?.content || choice.delta?.refusal
        if (text) emit({ type: 'text', text })
        if (choice.finish_reason) finishReason = FINISH_REASONS[choice.finish_reason] ?? 'unknown'
      }
      if (chunk.usage) {
        const { prompt_tokens = 0, completion_tokens = 0 } = chunk.usage
        emit({
          type: 'usage',
          usage: {
            prompt_tokens,
            completion_tokens,
            total_tokens: chunk.usage.total_tokens ?? prompt_tokens + completion_tokens,
          },
        })
      }
    },
  })

  return {
    decode(chunk) {
      batch = []
      if (finished) return batch
      pendingBytes += chunk.byteLength
      if (pendingBytes > MAX_PENDING_BYTES) {
        emit(malformed('an event larger than the gateway accepts'))
        return batch
      }
      parser.feed(utf8.decode(chunk, { stream: true }))
      return batch
    },
    end() {
      batch = []
      if (finished) return batch
      // A final event missing only its blank line still counts: a cut-off JSON chunk fails to
      // parse and a cut-off "[DONE" does not match, so nothing incomplete slips through.
      parser.feed(utf8.decode() + '\n\n')
      if (!finished) {
        emit(
          finishReason
            ? { type: 'done', finishReason }
            : {
                type: 'error',
                code: 'upstream_truncated',
                message: 'The model provider ended the stream before the answer was complete.',
                retryable: true,
              },
        )
      }
      return batch
    },
  }
}

function malformed(what: string): UpstreamEvent {
  return {
    type: 'error',
    code: 'upstream_malformed',
    message: `The model provider sent ${what}.`,
    retryable: true,
  }
}
