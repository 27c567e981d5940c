/**
 * A stream's id is the capability to read or stop it (an `EventSource` cannot send credentials),
 * so it must be unguessable: 144 bits from `crypto.getRandomValues`, as 24 base64url characters.
 */
const ID_BYTES = 18
const STREAM_ID = /^[A-Za-z0-9_-]{24}$/

export function newStreamId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(ID_BYTES))
  return btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
}

/** Whether a string can be a stream id at all: anything else is refused before any object is touched. */
export function isStreamId(value: string): boolean {
  return STREAM_ID.test(value)
}
