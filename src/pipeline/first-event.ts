import { GatewayError } from '../errors'
import type { UpstreamDecoder, UpstreamEvent, UpstreamStream } from '../providers/types'
import { clientClosed } from './open-upstream'

export interface FirstEventOptions {
  /** Longest wait for the first real event once the upstream has sent its headers. */
  timeoutMs: number
  /** Aborts when whoever waits for the answer goes away. */
  signal: AbortSignal
}

/**
 * Reads an upstream's answer until its first real event (text, reasoning, a tool call, usage,
 * the end; not a keepalive) has been decoded, and hands back a stream that yields what was read
 * first: "the first token decides". Before it, nothing has reached the client, so an upstream
 * that accepts and then dies (ends, resets, stalls, or opens with a retryable error event) fails
 * here with a retryable `GatewayError`, and the caller can try again or fall back invisibly.
 *
 * The bytes already read come back as the stream's `head`, and are not decoded twice: the
 * returned decoder answers that chunk with the events already decoded from it, and hands every
 * later chunk straight to the adapter's decoder.
 */
export async function awaitFirstEvent(
  upstream: UpstreamStream,
  { timeoutMs, signal }: FirstEventOptions,
): Promise<UpstreamStream> {
  const reader = upstream.body.getReader()
  const chunks: Uint8Array[] = []
  const head: UpstreamEvent[] = []
  let stop!: (error: GatewayError) => void
  const stopped = new Promise<never>((_, reject) => (stop = reject))
  const timer = setTimeout(
    () => stop(new GatewayError(504, 'upstream_timeout', 'The model provider did not start its answer in time.')),
    timeoutMs,
  )
  const clientLeft = () => stop(clientClosed())
  signal.addEventListener('abort', clientLeft, { once: true })
  try {
    if (signal.aborted) throw clientClosed()
    for (;;) {
      let result: ReadableStreamReadResult<Uint8Array>
      try {
        result = await Promise.race([reader.read(), stopped])
      } catch (error) {
        if (error instanceof GatewayError) throw error
        throw new GatewayError(502, 'upstream_connection_lost', 'The connection to the model provider broke off.')
      }
      if (result.done) {
        head.push(...upstream.decoder.end())
        const first = firstReal(head)
        // The body ended before any event: `end()` said so with a truncation error.
        if (!first || isRetryableError(first)) throw beforeFirstEvent(first)
        return replaying(upstream, reader, chunks, head, true)
      }
      chunks.push(result.value)
      head.push(...upstream.decoder.decode(result.value))
      const first = firstReal(head)
      if (!first) continue
      if (isRetryableError(first)) throw beforeFirstEvent(first)
      return replaying(upstream, reader, chunks, head, false)
    }
  } catch (error) {
    reader.cancel().catch(() => {})
    throw error
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', clientLeft)
    // A rejection nobody awaits any more must not surface as unhandled.
    stopped.catch(() => {})
  }
}

function firstReal(events: UpstreamEvent[]): UpstreamEvent | undefined {
  return events.find((event) => event.type !== 'keepalive')
}

function isRetryableError(event: UpstreamEvent): boolean {
  return event.type === 'error' && event.retryable
}

/** The failure of an answer that ended, or failed, before its first event: worth trying again. */
function beforeFirstEvent(event: UpstreamEvent | undefined): GatewayError {
  if (event?.type === 'error') return new GatewayError(502, event.code, event.message, { retryable: true })
  return new GatewayError(502, 'upstream_truncated', 'The model provider ended the stream before answering.')
}

/**
 * The stream as it was: the bytes read so far as its `head`, their events already decoded, then
 * the upstream's own body (read through `upstreamReader`); and, for a relay, the same two
 * (`UpstreamStream.raw`). The body is the upstream's own, not a stream wrapped around it that
 * would replay the head: each later chunk then reaches the pipeline's reader with no JavaScript
 * stream in between, which costs a read and an enqueue a chunk (issue 30).
 */
function replaying(
  upstream: UpstreamStream,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  chunks: Uint8Array[],
  head: UpstreamEvent[],
  ended: boolean,
): UpstreamStream {
  const inner = upstream.decoder
  const first = concat(chunks)
  let pending: UpstreamEvent[] | undefined = head
  const decoder: UpstreamDecoder = {
    decode(chunk) {
      if (pending && chunk === first) {
        const events = pending
        pending = undefined
        return events
      }
      return inner.decode(chunk)
    },
    // A body that ended while being read has had its `end()` already; its events are in `head`.
    end: () => (ended ? [] : inner.end()),
  }
  // Nothing past `head` has been read: the body is still whole from there on. One that has
  // ended is all in `head`: nothing to relay.
  reader.releaseLock()
  const raw = () => ({ head: first, rest: upstream.body })
  return {
    body: upstream.body,
    head: first,
    decoder,
    ...(!ended && { raw }),
    ...(upstream.dialect && { dialect: upstream.dialect }),
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0))
  let at = 0
  for (const chunk of chunks) {
    out.set(chunk, at)
    at += chunk.byteLength
  }
  return out
}
