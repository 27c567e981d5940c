import type { FinishReason } from '../schema/chat-events'
import { HEARTBEAT } from '../sse/encode'
import type { StreamFormat } from '../sse/format'

/**
 * OpenAI's Chat Completions stream, for clients of `POST /v1/chat/completions`: a
 * `chat.completion.chunk` per piece of text, the finish reason, a usage chunk when asked for,
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
    usage(counts) {
      // OpenAI sends usage last, after the finish reason: hold it for `done`.
      if (includeUsage) usage = `data: {${head},"choices":[],"usage":${JSON.stringify(counts)}}\n\n`
      return ''
    },
    done: (finishReason) => chunk({}, toOpenAIFinishReason(finishReason)) + usage + 'data: [DONE]\n\n',
    error: (error) =>
      `data: ${JSON.stringify({ error: { message: error.message, type: error.retryable ? 'server_error' : 'invalid_request_error', code: error.code, param: null } })}\n\n`,
    heartbeat: () => HEARTBEAT,
  }
}

function toOpenAIFinishReason(reason: FinishReason): string {
  return reason === 'unknown' ? 'stop' : reason
}
