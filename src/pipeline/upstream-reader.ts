import type { UpstreamStream } from '../providers/types'

/** Reads an upstream's answer chunk by chunk, from its first byte. */
export interface UpstreamReader {
  read(): Promise<ReadableStreamReadResult<Uint8Array>>
  cancel(): Promise<void>
}

/**
 * A reader of the whole answer: the bytes already read (`UpstreamStream.head`, taken by
 * `awaitFirstEvent`), then the body's own. Each later chunk comes straight from the body's own
 * reader, with no JavaScript stream wrapped around it to pay for it once more (issue 30).
 */
export function upstreamReader({ body, head }: UpstreamStream): UpstreamReader {
  const reader = body.getReader()
  let first = head
  return {
    read() {
      if (!first) return reader.read()
      const value = first
      first = undefined
      return Promise.resolve({ done: false, value })
    },
    cancel: () => reader.cancel(),
  }
}
