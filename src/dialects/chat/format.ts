// The Chat Completions dialect's stream encoder (was src/formats/openai-chat.ts), registered as
// `openai-chat` in ../../formats/index.ts so a stored answer replays in it.
import type { ErrorEventData, FinishReason, UsageEventData } from '../../events/chat-events'
import type { LiveEncoder } from '../../events/encoders'
import { HEARTBEAT } from '../../sse/encode'
import { EVENT_STREAM_HEADERS } from '../../sse/headers'
import { replayThroughLive } from '../../formats/adapters'
import type { WireFormat } from '../../formats/types'

/** What a Chat Completions request chooses about its stream. */
export interface OpenAIChatOptions {
  /** `stream_options.include_usage`: a last chunk with the usage, after the finish reason. */
  includeUsage: boolean
}

/**
 * OpenAI's Chat Completions stream, for clients of `POST /v1/chat/completions`: a
 * `chat.completion.chunk` per piece of text, reasoning (`reasoning_content`) or tool call
 * (`tool_calls`, with `id`, `type` and `name` on a call's first piece), the finish reason, a usage chunk when asked for,
 * then `data: [DONE]`. A failure is written as `data: {"error": ...}` and the stream ends without
 * `[DONE]`: the official SDKs throw on that payload, so a cut answer never reads as complete.
 */
export const openAIChatFormat: WireFormat<OpenAIChatOptions> = {
  headers: EVENT_STREAM_HEADERS,
  live: openAIChunks,
  replay(options) {
    const live = openAIChunks(options)
    // A reader that resumes after the first chunk still needs the fields every chunk repeats.
    if (options.resumedAfter) live.start(options.resumedAfter)
    return replayThroughLive(live)
  },
  // A provider's own stream carries the usage chunk the gateway asked it for: relayed only to a
  // client that asked for it too (one that did not may not expect a chunk without `choices`).
  relay: ({ includeUsage }) =>
    includeUsage ? { dialect: 'chat', heartbeat: HEARTBEAT, error: chatErrorChunk } : undefined,
}

function chatErrorChunk(error: ErrorEventData): string {
  const type = error.retryable ? 'server_error' : 'invalid_request_error'
  return `data: ${JSON.stringify({ error: { message: error.message, type, code: error.code, param: null } })}\n\n`
}

function openAIChunks({ includeUsage }: OpenAIChatOptions): LiveEncoder {
  let head = ''
  const chunk = (delta: object, finishReason: string | null = null) =>
    `data: {${head},"choices":[{"index":0,"delta":${JSON.stringify(delta)},"logprobs":null,"finish_reason":${JSON.stringify(finishReason)}}]}\n\n`
  let usage = ''
  return {
    start(start) {
      // The fields every chunk repeats, serialised once.
      head = `"id":${JSON.stringify(start.id)},"object":"chat.completion.chunk","created":${start.created},"model":${JSON.stringify(start.model)}`
      // `null`, not "": no text yet, and for a tool-only answer none at all (an empty string is
      // an empty text part to the AI SDK). OpenAI's own tool-call streams open the same way.
      return chunk({ role: 'assistant', content: null })
    },
    text: (text) => chunk({ content: text }),
    // Not in OpenAI's own API, but the field DeepSeek, vLLM and OpenRouter clients read.
    // A thinking block's signature (Anthropic's) has no place in this format: only text is sent.
    reasoning: (text) => (text ? chunk({ reasoning_content: text }) : ''),
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
    error: chatErrorChunk,
    heartbeat: () => HEARTBEAT,
  }
}

export function toOpenAIFinishReason(reason: FinishReason): string {
  return reason === 'unknown' ? 'stop' : reason
}

/**
 * Our counts in OpenAI's terms: reasoning tokens inside `completion_tokens_details`, input read
 * from the prompt cache inside `prompt_tokens_details` (`cached_tokens`, a part of
 * `prompt_tokens`, as ours is). OpenAI has no name for cache writes; they stay in `prompt_tokens`.
 */
export function toOpenAIUsage({
  prompt_tokens,
  completion_tokens,
  total_tokens,
  reasoning_tokens,
  cache_read_tokens,
}: UsageEventData) {
  return {
    prompt_tokens,
    completion_tokens,
    total_tokens,
    ...(cache_read_tokens !== undefined && { prompt_tokens_details: { cached_tokens: cache_read_tokens } }),
    ...(reasoning_tokens !== undefined && { completion_tokens_details: { reasoning_tokens } }),
  }
}
