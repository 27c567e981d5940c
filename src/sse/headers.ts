/**
 * Response headers for an event stream. Each one is here because some hop between the Worker
 * and the browser would otherwise hold the stream back, store it or rewrite it.
 *
 * Deliberately absent: `Content-Length` (the length is unknown; its absence is what lets HTTP/1.1
 * chunk the body) and `Connection` (hop-by-hop, forbidden in HTTP/2; the runtime manages it).
 */
export const EVENT_STREAM_HEADERS: Readonly<Record<string, string>> = {
  // The SSE media type. The spec fixes the charset to UTF-8; saying so spares any guessing.
  'Content-Type': 'text/event-stream; charset=utf-8',
  // no-cache: no cache may answer with a stored copy of a live answer.
  // no-transform: proxies (carrier proxies, optimisers) must not rewrite or compress the body;
  // a compressor holds bytes back until it has a block worth compressing.
  'Cache-Control': 'no-cache, no-transform',
  // nginx, and proxies that follow its convention, buffer a response unless told not to.
  'X-Accel-Buffering': 'no',
}
