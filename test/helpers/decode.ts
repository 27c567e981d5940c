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
