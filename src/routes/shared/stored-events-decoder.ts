import type { ChatEventDataMap } from '../../events/chat-events'
import { createSseDecoder, parseJson } from '../../providers/sse-decoder'
import type { OpenedAnswer } from '../../pipeline/open-answer'
import type { UpstreamDecoder } from '../../providers/types'

/**
 * A stored answer's body, in our format, as an opened answer of `model`, for `collectAnswer`.
 * Reading it makes no upstream request: 0 attempts.
 */
export function storedAsOpened(body: ReadableStream<Uint8Array>, model: string): OpenedAnswer {
  return { model, upstream: model, attempts: 0, stream: { body, decoder: storedEventsDecoder() } }
}

/**
 * Reads a stored answer, replayed in our own format (`gateway`), as if it were an upstream: so
 * a whole answer (`stream: false`) served from the cache is collected by the very code that
 * collects one from a provider (`collectAnswer`), with its timeouts, and rendered the same way.
 */
export function storedEventsDecoder(): UpstreamDecoder {
  return createSseDecoder({
    onMessage({ event, data }, emit) {
      switch (event) {
        case 'delta': {
          const delta = parseJson<ChatEventDataMap['delta']>(data, emit)
          if (delta) emit({ type: 'text', text: delta.text })
          return
        }
        case 'reasoning': {
          const piece = parseJson<ChatEventDataMap['reasoning']>(data, emit)
          if (piece) emit({ type: 'reasoning', ...piece })
          return
        }
        case 'tool_call': {
          const call = parseJson<ChatEventDataMap['tool_call']>(data, emit)
          if (!call) return
          const { arguments_delta: argumentsDelta, ...rest } = call
          emit({ type: 'tool_call', ...rest, argumentsDelta })
          return
        }
        case 'usage': {
          const usage = parseJson<ChatEventDataMap['usage']>(data, emit)
          if (usage) emit({ type: 'usage', usage })
          return
        }
        case 'done': {
          const done = parseJson<ChatEventDataMap['done']>(data, emit)
          if (!done) return
          const stopSequence = done.stop_sequence
          emit({ type: 'done', finishReason: done.finish_reason, ...(stopSequence !== undefined && { stopSequence }) })
          return
        }
        case 'error': {
          const error = parseJson<ChatEventDataMap['error']>(data, emit)
          if (error) emit({ type: 'error', ...error })
          return
        }
        // `start` says nothing a whole answer needs.
      }
    },
  })
}
