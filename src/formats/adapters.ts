import type { ChatEventDataMap } from '../events/chat-events'
import { chatEvents, type LiveEncoder, type ReplayEncoder } from '../events/encoders'
import type { StoredEvent } from '../events/stored-event'

/**
 * A format written once, over stored events, used live as well: each event the pipeline makes is
 * numbered as the log would number it and handed to the replay encoder, so a live stream and a
 * replay of the same answer are the same bytes, by construction.
 */
export function liveThroughReplay(replay: ReplayEncoder): LiveEncoder {
  let id = 0
  let preamble = replay.preamble
  return chatEvents((event, data) => {
    const out = preamble + replay.encode([{ id: ++id, event, data: JSON.stringify(data) }])
    preamble = ''
    return out
  }, replay.heartbeat)
}

/**
 * A format written once, live, used on replay as well: each stored event is parsed and handed to
 * the live encoder as the pipeline would have. For formats whose output does not repeat our event
 * ids (OpenAI's chunks carry none), so a reader that resumes mid-answer gets the rest of the
 * answer, not a numbered position in it.
 */
export function replayThroughLive(live: LiveEncoder): ReplayEncoder {
  return {
    preamble: '',
    heartbeat: live.heartbeat(),
    encode(events) {
      let out = ''
      for (const event of events) out += encodeOne(live, event)
      return out
    },
  }
}

function encodeOne(live: LiveEncoder, { event, data }: StoredEvent): string {
  switch (event) {
    case 'start':
      return live.start(parse<'start'>(data))
    case 'delta':
      return live.text(parse<'delta'>(data).text)
    case 'reasoning': {
      const { text, ...seal } = parse<'reasoning'>(data)
      return live.reasoning(text, seal.signature === undefined && seal.redacted === undefined ? undefined : seal)
    }
    case 'tool_call': {
      const { index, id, name, arguments_delta } = parse<'tool_call'>(data)
      return live.toolCall({ index, id, name, argumentsDelta: arguments_delta })
    }
    case 'usage':
      return live.usage(parse<'usage'>(data))
    case 'done': {
      const { finish_reason, stop_sequence } = parse<'done'>(data)
      return live.done(finish_reason, stop_sequence)
    }
    case 'error':
      return live.error(parse<'error'>(data))
  }
}

const parse = <E extends keyof ChatEventDataMap>(data: string) => JSON.parse(data) as ChatEventDataMap[E]
