import type { FinishReason, UsageEventData } from '../schema/chat-events'
import { HEARTBEAT } from '../sse/encode'
import type { StreamFormat } from '../sse/format'

/**
 * OpenAI's Chat Completions stream, for clients of `POST /v1/chat/completions`: a
 * `chat.completion.chunk` per piece of text, reasoning (`reasoning_content`) or tool call
 * (`tool_calls`, with `id`, `type` and `name` on a call's first piece), the finish reason, a usage chunk when asked for,
 * then `data: [DONE]`. A failure is written as `data: {"error": ...}` and the stream ends without
 * `[DONE]`: the official SDKs throw on that payload, so a cut answer never reads as complete.
 */
export function openAIChunkFormat({ includeUsage }: { includeUsage: boolean }): StreamFormat {
  let head = ''
  const chunk = (delta: object, finishReason: string | null = null) =>
    `data: {${head},"choices":[{"index":0,"delta":${JSON.stringify(delta)},"logprobs":null,"finish_reason":${JSON.stringify(finishReason)}}]}\n\n`
  let usage = ''
  return {
    start(start) {
      // The fields every chunk repeats, serialised once.
      head = `"id":${JSON.stringify(start.id)},"object":"chat.completion.chunk","created":${start.created},"model":${JSON.stringify(start.model)}`
      return chunk({ role: 'assistant', content: '' })
    },
    text: (text) => chunk({ content: text }),
    // Not in OpenAI's own API, but the field DeepSeek, vLLM and OpenRouter clients read.
    reasoning: (text) => chunk({ reasoning_content: text }),
    toolCall: ({ index, id, name, argumentsDelta }) =>
      chunk({
        tool_calls: [
          id === undefined
            ? { index, function: { arguments: argumentsDelta } }
            : { index, id, type: 'function', function: { name, arguments: argumentsDelta } },
        ],
      }),
    usage(counts) {
      // OpenAI sends usage last, after the finish reason: hold it for `done`.
      if (includeUsage) usage = `data: {${head},"choices":[],"usage":${JSON.stringify(toOpenAIUsage(counts))}}\n\n`
      return ''
    },
    done: (finishReason) => chunk({}, toOpenAIFinishReason(finishReason)) + usage + 'data: [DONE]\n\n',
    error: (error) =>
      `data: ${JSON.stringify({ error: { message: error.message, type: error.retryable ? 'server_error' : 'invalid_request_error', code: error.code, param: null } })}\n\n`,
    heartbeat: () => HEARTBEAT,
  }
}

export function toOpenAIFinishReason(reason: FinishReason): string {
  return reason === 'unknown' ? 'stop' : reason
}

/** OpenAI reports reasoning tokens inside `completion_tokens_details`. */
export function toOpenAIUsage({ reasoning_tokens, ...counts }: UsageEventData) {
  return reasoning_tokens === undefined ? counts : { ...counts, completion_tokens_details: { reasoning_tokens } }
}
