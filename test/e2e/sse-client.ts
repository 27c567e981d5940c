import { createParser, type EventSourceMessage } from 'eventsource-parser'

export interface StreamReading {
  /** Waits for the next event (not comment) whose name passes the filter; null at the end. */
  nextEvent(filter?: (event: EventSourceMessage) => boolean): Promise<EventSourceMessage | null>
  /** Waits for the next comment line (such as a heartbeat); null at the end. */
  nextComment(): Promise<string | null>
  /** Reads to the end, returning every event. */
  rest(): Promise<EventSourceMessage[]>
  /** Stops reading: the client leaves. */
  cancel(): Promise<void>
  events: EventSourceMessage[]
  comments: string[]
}

/** Reads an event-stream response incrementally, keeping events and comments apart. */
export function readStream(response: Response): StreamReading {
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  const events: EventSourceMessage[] = []
  const comments: string[] = []
  let eventIndex = 0
  let commentIndex = 0
  let ended = false
  const parser = createParser({ onEvent: (e) => events.push(e), onComment: (c) => comments.push(c) })

  async function more(): Promise<boolean> {
    if (ended) return false
    const { done, value } = await reader.read()
    if (done) {
      ended = true
      return false
    }
    parser.feed(decoder.decode(value, { stream: true }))
    return true
  }

  return {
    events,
    comments,
    async nextEvent(filter = () => true) {
      for (;;) {
        while (eventIndex < events.length) {
          const event = events[eventIndex++]!
          if (filter(event)) return event
        }
        if (!(await more())) return null
      }
    },
    async nextComment() {
      for (;;) {
        if (commentIndex < comments.length) return comments[commentIndex++]!
        if (!(await more())) return null
      }
    },
    async rest() {
      while (await more());
      return events
    },
    cancel: () => reader.cancel(),
  }
}
