import { createParser, type EventSourceMessage } from 'eventsource-parser'

export interface ParsedStream {
  events: EventSourceMessage[]
  comments: string[]
  retry?: number
}

/** Parses a whole event-stream body with a real SSE parser, as a client would see it. */
export function parseEventStream(text: string): ParsedStream {
  const parsed: ParsedStream = { events: [], comments: [] }
  const parser = createParser({
    onEvent: (event) => parsed.events.push(event),
    onComment: (comment) => parsed.comments.push(comment),
    onRetry: (retry) => (parsed.retry = retry),
  })
  parser.feed(text)
  return parsed
}

/** Reads a stream to its end, keeping the chunks as they came. */
export async function readChunks(stream: ReadableStream<Uint8Array>): Promise<string[]> {
  const chunks: string[] = []
  const decoder = new TextDecoder()
  for await (const chunk of stream) chunks.push(decoder.decode(chunk, { stream: true }))
  return chunks
}

/** The event names and parsed data of a body, in order. */
export function eventsOf(text: string): Array<{ event: string | undefined; data: unknown; id: string | undefined }> {
  return parseEventStream(text).events.map((e) => ({ event: e.event, data: JSON.parse(e.data), id: e.id }))
}
