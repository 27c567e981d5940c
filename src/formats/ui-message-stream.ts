import type { DoneEventData, ErrorEventData, FinishReason, StartEventData } from '../events/chat-events'
import type { ReplayEncoder } from '../events/encoders'
import type { StoredEvent } from '../events/stored-event'
import { HEARTBEAT } from '../sse/encode'
import { EVENT_STREAM_HEADERS } from '../sse/headers'
import { liveThroughReplay } from './adapters'
import type { CommonOptions, WireFormat } from './types'

/**
 * The Vercel AI SDK's UI message stream, what `useChat` reads: SSE `data:` lines of JSON chunks,
 * ending with `data: [DONE]`. Verified against the source of `ai` 7.0.173 and `@ai-sdk/react`
 * 4.0.177 (`src/ui-message-stream/ui-message-chunks.ts`, `src/ui/process-ui-message-stream.ts`,
 * `src/ui-message-stream/ui-message-stream-headers.ts`, `src/ui/http-chat-transport.ts`).
 */
export const uiMessageStreamFormat: WireFormat = {
  headers: {
    ...EVENT_STREAM_HEADERS,
    // How the SDK tells its own protocol from a plain text stream.
    'x-vercel-ai-ui-message-stream': 'v1',
  },
  // Written once, over stored events: a live answer (`resumable: false`) is numbered as the log would number it.
  live: (options) => liveThroughReplay(uiMessageChunks(options)),
  replay: uiMessageChunks,
}

const DONE = 'data: [DONE]\n\n'

/** Our finish reasons in the SDK's spelling (`FinishReason` in `ai`). */
const FINISH_REASONS: Record<FinishReason, string> = {
  stop: 'stop',
  length: 'length',
  content_filter: 'content-filter',
  tool_calls: 'tool-calls',
  unknown: 'other',
}

/** A text or reasoning part this reader has opened (`text-start`) and not yet closed. */
interface OpenPart {
  kind: 'text' | 'reasoning'
  id: string
}

/**
 * Writes stored events as UI message chunks, for one reader, from wherever it starts:
 *
 * - `start` is the SDK's `start` (with the assistant message's id and `{ model, upstream }` as
 *   message metadata) and `start-step`.
 * - Text and reasoning are parts: `text-start`, `text-delta`s, `text-end` (and `reasoning-*`),
 *   a new part whenever the model switches between thinking and answering. A part's id is
 *   `text-<event id>` of the event that opened it for this reader.
 * - `usage` is held and sent as the message metadata of `finish` (`{ usage }`, our counts).
 * - `done` closes the open part, then `finish-step` and `finish` with the finish reason.
 * - `error` is the SDK's `error` chunk (`errorText`: our message), and a stop (`cancelled`) is
 *   its `abort`: never a `finish`, and the open part is left open, so no client shows a cut
 *   answer as whole. Every stream then ends with `data: [DONE]`, as the SDK's own servers do: it
 *   marks the end of the transport, not a complete answer (`finish` says that).
 *
 * A reader that starts after the `start` event (`Last-Event-ID`) gets `start` and `start-step`
 * first, from `resumedAfter`, and its own `text-start` before its first delta: every reader
 * gets a sequence the SDK accepts from an empty state. Each event's last chunk carries the
 * event's id, so a client that keeps `Last-Event-ID` can resume exactly after it.
 *
 * Tool calls are not carried on this surface (the route refuses `tools`), so no `tool_call`
 * event is ever stored for it.
 */
function uiMessageChunks({ resumedAfter }: CommonOptions): ReplayEncoder {
  let open: OpenPart | undefined
  let usage: string | undefined

  /** Closes the open part, if any, before something else begins or the message finishes. */
  const close = (): string => {
    if (!open) return ''
    const chunk = `data: {"type":"${open.kind}-end","id":"${open.id}"}\n\n`
    open = undefined
    return chunk
  }

  /** A delta of text or reasoning, opening its part first when another kind (or none) is open. */
  const delta = (kind: OpenPart['kind'], eventId: number, data: string): string => {
    let out = ''
    if (open?.kind !== kind) {
      out += close()
      open = { kind, id: `${kind}-${eventId}` }
      out += `data: {"type":"${kind}-start","id":"${open.id}"}\n\n`
    }
    return out + `id: ${eventId}\ndata: {"type":"${kind}-delta","id":"${open.id}","delta":${textJson(data)}}\n\n`
  }

  const encodeOne = ({ id, event, data }: StoredEvent): string => {
    switch (event) {
      case 'start':
        return startChunks(JSON.parse(data) as StartEventData, id)
      case 'delta':
        return delta('text', id, data)
      case 'reasoning':
        // A thinking block's signature or a redacted block (Anthropic's) has no text to show.
        return data.startsWith(EMPTY_TEXT) ? '' : delta('reasoning', id, data)
      case 'usage':
        usage = data // already our usage JSON
        return ''
      case 'done': {
        const { finish_reason } = JSON.parse(data) as DoneEventData
        const metadata = usage === undefined ? '' : `,"messageMetadata":{"usage":${usage}}`
        return (
          close() +
          'data: {"type":"finish-step"}\n\n' +
          `id: ${id}\ndata: {"type":"finish","finishReason":"${FINISH_REASONS[finish_reason] ?? 'other'}"${metadata}}\n\n` +
          DONE
        )
      }
      case 'error': {
        const error = JSON.parse(data) as ErrorEventData
        const chunk =
          error.code === 'cancelled'
            ? { type: 'abort', reason: error.message }
            : { type: 'error', errorText: error.message }
        return `id: ${id}\ndata: ${JSON.stringify(chunk)}\n\n` + DONE
      }
      case 'tool_call':
        return ''
    }
  }

  return {
    preamble: resumedAfter ? startChunks(resumedAfter) : '',
    heartbeat: HEARTBEAT,
    encode(events) {
      let out = ''
      for (const event of events) out += encodeOne(event)
      return out
    },
  }
}

/** The message's `start` and the step's `start-step`; the id goes on the last, when it is the event's own. */
function startChunks({ id: messageId, model, upstream }: StartEventData, eventId?: number): string {
  const metadata = JSON.stringify({ model, upstream })
  return (
    `data: {"type":"start","messageId":${JSON.stringify(messageId)},"messageMetadata":${metadata}}\n\n` +
    (eventId === undefined ? '' : `id: ${eventId}\n`) +
    'data: {"type":"start-step"}\n\n'
  )
}

const TEXT_PREFIX = '{"text":'
/** A reasoning event with no text: `chatEvents` writes `text` first. */
const EMPTY_TEXT = '{"text":"",'

/**
 * The JSON string inside a stored `{"text": …}`. The log holds the very string `JSON.stringify`
 * made of `{ text }`, so the value is everything between the prefix and the closing brace,
 * already escaped: no parse and no re-serialisation per token. Anything else is parsed.
 */
function textJson(data: string): string {
  if (data.startsWith(TEXT_PREFIX) && data.endsWith('}')) return data.slice(TEXT_PREFIX.length, -1)
  return JSON.stringify((JSON.parse(data) as { text: string }).text)
}
