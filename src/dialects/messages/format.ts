// The Messages dialect's stream encoder (was src/formats/anthropic-messages.ts), registered as
// `anthropic-messages` in ../../formats/index.ts so a stored answer replays in it.
import type { ErrorEventData, FinishReason, UsageEventData } from '../../events/chat-events'
import type { LiveEncoder } from '../../events/encoders'
import { EVENT_STREAM_HEADERS } from '../../sse/headers'
import { replayThroughLive } from '../../formats/adapters'
import type { WireFormat } from '../../formats/types'

/**
 * Anthropic's Messages stream, for clients of `POST /v1/messages` (the `@anthropic-ai/sdk`,
 * `@ai-sdk/anthropic`, Claude Code), as Anthropic writes it:
 *
 * - `message_start` with the message's `id`, `model` and `usage`;
 * - content blocks, numbered from 0 in the order they open, each `content_block_start`, its
 *   deltas, `content_block_stop`: `text` (`text_delta`), `thinking` (`thinking_delta`, then the
 *   `signature_delta` that seals and ends it), `redacted_thinking` (whole in its start), and
 *   `tool_use` (`input_json_delta`, each piece of the arguments as it came, never gathered);
 * - `message_delta` with the `stop_reason`, `stop_sequence` and the usage, then `message_stop`.
 *
 * A block ends when one of another kind begins, as Anthropic's do. Tool calls keep the block
 * index their first piece opened: should an upstream interleave the pieces of parallel calls
 * (OpenAI's numbering allows it), a late piece goes to its own call's block, never another's.
 *
 * Usage is known only at the end, so `message_start` counts 0 and `message_delta` carries the
 * whole count (`input_tokens` and `output_tokens`, and the prompt cache's reads and writes where
 * there were any), which both SDKs take as the message's.
 * Heartbeats are Anthropic's `ping` event. A failure is `event: error` with Anthropic's error
 * object and no `message_stop`: the SDKs throw on it, so a cut answer never reads as complete.
 */
export const anthropicMessagesFormat: WireFormat = {
  headers: EVENT_STREAM_HEADERS,
  live: anthropicEvents,
  replay(options) {
    const live = anthropicEvents()
    // A reader that resumes after the start has had its `message_start`.
    if (options.resumedAfter) live.start(options.resumedAfter)
    return replayThroughLive(live)
  },
  // Anthropic's own stream, relayed to a Messages client, ends in the same error event.
  relay: () => ({ dialect: 'messages', heartbeat: PING, error: anthropicErrorEvent }),
}

const PING = 'event: ping\ndata: {"type": "ping"}\n\n'

function anthropicErrorEvent(error: ErrorEventData): string {
  return `event: error\ndata: ${JSON.stringify(toAnthropicError(error))}\n\n`
}

function anthropicEvents(): LiveEncoder {
  /** The index of the last block opened; -1 before the first. */
  let last = -1
  /** The kind of block open now, if any. */
  let open: 'text' | 'thinking' | 'redacted_thinking' | 'tool_use' | undefined
  /** Tool call index -> its block's index. */
  const toolBlocks: number[] = []
  let usage: UsageEventData | undefined

  const event = (type: string, json: string) => `event: ${type}\ndata: ${json}\n\n`
  const delta = (index: number, json: string) =>
    event('content_block_delta', `{"type":"content_block_delta","index":${index},"delta":${json}}`)

  const close = (): string => {
    if (open === undefined) return ''
    open = undefined
    return event('content_block_stop', `{"type":"content_block_stop","index":${last}}`)
  }
  /** Closes the open block and opens the next, of this kind, with this `content_block`. */
  const begin = (kind: NonNullable<typeof open>, block: string): string => {
    const out = close()
    open = kind
    return (
      out + event('content_block_start', `{"type":"content_block_start","index":${++last},"content_block":${block}}`)
    )
  }

  return {
    start: ({ id, model }) =>
      event(
        'message_start',
        `{"type":"message_start","message":{"id":${JSON.stringify(id)},"type":"message","role":"assistant","model":${JSON.stringify(model)},"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}`,
      ),
    text(text) {
      const out = open === 'text' ? '' : begin('text', '{"type":"text","text":""}')
      return out + delta(last, `{"type":"text_delta","text":${JSON.stringify(text)}}`)
    },
    reasoning(text, seal) {
      if (seal?.redacted !== undefined) {
        // Whole in its start, so it ends at once.
        return (
          begin('redacted_thinking', `{"type":"redacted_thinking","data":${JSON.stringify(seal.redacted)}}`) + close()
        )
      }
      let out = open === 'thinking' ? '' : begin('thinking', '{"type":"thinking","thinking":"","signature":""}')
      if (text) out += delta(last, `{"type":"thinking_delta","thinking":${JSON.stringify(text)}}`)
      if (seal?.signature !== undefined) {
        out += delta(last, `{"type":"signature_delta","signature":${JSON.stringify(seal.signature)}}`) + close()
      }
      return out
    },
    toolCall({ index, id, name, argumentsDelta }) {
      let out = ''
      if (id !== undefined) {
        out = begin(
          'tool_use',
          `{"type":"tool_use","id":${JSON.stringify(id)},"name":${JSON.stringify(name ?? '')},"input":{}}`,
        )
        toolBlocks[index] = last
      }
      const block = toolBlocks[index]
      if (argumentsDelta && block !== undefined) {
        out += delta(block, `{"type":"input_json_delta","partial_json":${JSON.stringify(argumentsDelta)}}`)
      }
      return out
    },
    usage(counts) {
      // Anthropic sends usage with the stop reason, in `message_delta`: hold it for `done`.
      usage = counts
      return ''
    },
    done(finishReason, stopSequence) {
      const reason = toStopReason(finishReason, stopSequence)
      const counts = usage ? JSON.stringify(toAnthropicUsage(usage)) : '{"output_tokens":0}'
      return (
        close() +
        event(
          'message_delta',
          `{"type":"message_delta","delta":{"stop_reason":"${reason}","stop_sequence":${reason === 'stop_sequence' ? JSON.stringify(stopSequence) : 'null'}},"usage":${counts}}`,
        ) +
        event('message_stop', '{"type":"message_stop"}')
      )
    },
    error: anthropicErrorEvent,
    heartbeat: () => PING,
  }
}

/**
 * Our counts in Anthropic's terms: `input_tokens` is the input that was neither read from nor
 * written to the prompt cache (ours counts all of it), and the cached parts are named apart,
 * where the answer had any, as Anthropic's own usage does.
 */
export function toAnthropicUsage(usage: UsageEventData) {
  const read = usage.cache_read_tokens ?? 0
  const written = usage.cache_write_tokens ?? 0
  return {
    input_tokens: Math.max(0, usage.prompt_tokens - read - written),
    output_tokens: usage.completion_tokens,
    ...(usage.cache_read_tokens !== undefined && { cache_read_input_tokens: read }),
    ...(usage.cache_write_tokens !== undefined && { cache_creation_input_tokens: written }),
  }
}

/** Our finish reason as Anthropic's `stop_reason`. */
export function toStopReason(reason: FinishReason, stopSequence?: string): string {
  switch (reason) {
    case 'length':
      return 'max_tokens'
    case 'tool_calls':
      return 'tool_use'
    case 'content_filter':
      return 'refusal'
    default:
      return stopSequence === undefined ? 'end_turn' : 'stop_sequence'
  }
}

/**
 * Our error event as Anthropic's error object. Mid-stream, Anthropic itself sends only
 * `overloaded_error` (its capacity) and `api_error` (anything else on its side); so do we.
 */
export function toAnthropicError({ code, message }: Pick<ErrorEventData, 'code' | 'message'>) {
  const overloaded = code === 'upstream_overloaded' || code === 'upstream_unavailable'
  return { type: 'error', error: { type: overloaded ? 'overloaded_error' : 'api_error', message } }
}
