import type { UpstreamDecoder, UpstreamEvent } from '../../src/providers/types'

/** Runs a whole body through a fresh decoder, piece by piece, as the pipeline does. */
export function decodeAll(createDecoder: () => UpstreamDecoder, pieces: Uint8Array[]): UpstreamEvent[] {
  const decoder = createDecoder()
  return [...pieces.flatMap((piece) => decoder.decode(piece)), ...decoder.end()]
}

/** Merges adjacent text events: how a split falls may only change how text is grouped, never the text. */
export function mergeText(events: UpstreamEvent[]): UpstreamEvent[] {
  const merged: UpstreamEvent[] = []
  for (const event of events) {
    const last = merged.at(-1)
    if (event.type === 'text' && last?.type === 'text') last.text += event.text
    else merged.push({ ...event })
  }
  return merged
}

const utf8 = new TextEncoder()

/**
 * Decodes `body` whole, then cut at every byte offset and with CRLF line endings cut between CR
 * and LF, and checks every way yields the same events. Returns the whole body's events.
 */
export function decodeAtEverySplit(createDecoder: () => UpstreamDecoder, body: string): UpstreamEvent[] {
  const bytes = utf8.encode(body)
  const whole = mergeText(decodeAll(createDecoder, [bytes]))
  for (let offset = 1; offset < bytes.length; offset++) {
    const split = mergeText(decodeAll(createDecoder, [bytes.slice(0, offset), bytes.slice(offset)]))
    if (JSON.stringify(split) !== JSON.stringify(whole)) {
      throw new Error(
        `split at byte ${offset} decoded differently:\n${JSON.stringify(split)}\nvs\n${JSON.stringify(whole)}`,
      )
    }
  }
  const crlf = utf8.encode(body.replaceAll('\n', '\r\n'))
  const pieces: Uint8Array[] = []
  let from = 0
  crlf.forEach((byte, i) => {
    if (byte === 13) {
      pieces.push(crlf.slice(from, i + 1))
      from = i + 1
    }
  })
  pieces.push(crlf.slice(from))
  const crlfEvents = mergeText(decodeAll(createDecoder, pieces))
  if (JSON.stringify(crlfEvents) !== JSON.stringify(whole)) throw new Error('CRLF line endings decoded differently')
  return whole
}

/** Each tool call's id, name and arguments, joined from its pieces, by index. */
export function joinToolCalls(events: UpstreamEvent[]): Array<{ id?: string; name?: string; arguments: string }> {
  const calls: Array<{ id?: string; name?: string; arguments: string }> = []
  for (const event of events) {
    if (event.type !== 'tool_call') continue
    const call = (calls[event.index] ??= { arguments: '' })
    if (event.id !== undefined) call.id = event.id
    if (event.name !== undefined) call.name = event.name
    call.arguments += event.argumentsDelta
  }
  return calls
}
