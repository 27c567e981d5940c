import { GatewayError } from '../errors'
import { log } from '../log'
import { scrubForClient } from './scrub'
import { logUpstreamError, withReason } from './upstream-error'

/** Longest upstream error message read; the rest is noise. */
const MAX_MESSAGE_CHARS = 2000
/** Most of an upstream error body read: enough for any real error, bounded against a hostile one. */
const MAX_ERROR_BODY_BYTES = 16 * 1024

/**
 * `fetch` to an upstream, turning a network failure into a `GatewayError`. An abort rejects with
 * the signal's reason, so a header timeout surfaces as the 504 it was raised as.
 */
export async function fetchUpstream(url: string, init: RequestInit, signal: AbortSignal): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal })
  } catch (error) {
    if (signal.aborted) throw signal.reason
    // The runtime's message can name the upstream host: log it for the operator, not the client.
    log.error('upstream fetch failed', { error: String(error) })
    throw new GatewayError(502, 'upstream_unavailable', 'The model provider could not be reached.')
  }
}

/**
 * POSTs to an upstream that answers with an event stream, and returns that stream. A refusal
 * becomes the matching `GatewayError`, and so does a success that is not an event stream.
 */
export async function openEventStream(
  url: string,
  init: RequestInit,
  signal: AbortSignal,
): Promise<ReadableStream<Uint8Array>> {
  const response = await fetchUpstream(url, { method: 'POST', ...init }, signal)
  if (!response.ok) throw await upstreamRefusal(response)
  return assertEventStream(response)
}

/** A streaming success must be an event stream; anything else (a JSON error page, HTML) is not. */
function assertEventStream(response: Response): ReadableStream<Uint8Array> {
  const type = response.headers.get('Content-Type') ?? ''
  if (!response.body || !type.toLowerCase().startsWith('text/event-stream')) {
    response.body?.cancel().catch(() => {})
    throw new GatewayError(502, 'upstream_invalid_response', 'The model provider did not answer with a stream.')
  }
  // Only a response the runtime received has its URL.
  if (response.url) fromNetwork.add(response.body)
  return response.body
}

const fromNetwork = new WeakSet<ReadableStream<Uint8Array>>()

/**
 * Whether a body came over the network, so the runtime can tee it and pipe a branch without
 * JavaScript (`pipeline/relay-answer.ts`). A body built in memory (a test's stand-in for
 * `fetch`) cannot be: workerd tees it into streams it will not pipe ("Inter-TransformStream
 * ReadableStream.pipeTo() is not implemented"), and the pipe never settles.
 */
export function cameFromNetwork(body: ReadableStream<Uint8Array>): boolean {
  return fromNetwork.has(body)
}

/**
 * Maps an upstream's refusal to what the client sees. Statuses that describe the client's
 * request (400, 413, 422) or the upstream's load (429, 503) pass through; ones that describe the
 * gateway's own setup (a bad key: 401, 403; an unknown upstream model: 404) are the gateway's
 * fault and become 502, since the browser could do nothing about them.
 *
 * The client always gets our code and our message: an upstream's words are written for the
 * account holder and name keys, organisations and internal hosts. Only for a request the upstream
 * found wrong does its reason follow ours, scrubbed (`scrub.ts`), since that is what lets the
 * caller fix it. The upstream's own text goes to the log, without its secrets.
 */
export async function upstreamRefusal(response: Response): Promise<GatewayError> {
  const status = response.status
  const body = await readBounded(response, MAX_ERROR_BODY_BYTES)
  const detail = errorMessageOf(body)
  // Not JSON (an HTML page from a proxy, say): what it says is still worth the operator's log.
  logUpstreamError('upstream refused', detail ?? body.slice(0, MAX_MESSAGE_CHARS), { status })
  const retryAfter = response.headers.get('Retry-After') ?? undefined
  if (status === 429) {
    return new GatewayError(429, 'upstream_rate_limited', 'The model provider is rate limiting requests.', {
      retryAfter,
    })
  }
  if (status === 400 || status === 413 || status === 422) {
    const reason = detail ? scrubForClient(detail) : ''
    return new GatewayError(
      status === 413 ? 413 : 400,
      'upstream_rejected_request',
      withReason('The model provider rejected the request', reason),
      { retryable: false },
    )
  }
  if (status === 401 || status === 403) {
    return new GatewayError(
      502,
      'upstream_auth_failed',
      'The gateway could not authenticate with the model provider.',
      {
        retryable: false,
      },
    )
  }
  if (status === 404) {
    return new GatewayError(502, 'upstream_model_not_found', 'The model provider does not know the configured model.', {
      retryable: false,
    })
  }
  if (status === 408 || status === 504) {
    return new GatewayError(504, 'upstream_timeout', 'The model provider timed out.')
  }
  // 529 is Anthropic's (and others') "overloaded": the same promise as a 503.
  if (status === 503 || status === 529) {
    return new GatewayError(503, 'upstream_unavailable', 'The model provider is unavailable.', { retryAfter })
  }
  return new GatewayError(502, 'upstream_error', `The model provider failed (HTTP ${status}).`)
}

/** The human-readable message of an upstream error body (`{error: {message}}` or `{message}`), if any. */
function errorMessageOf(text: string): string | undefined {
  let message: unknown
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown }
    message = typeof body.error === 'string' ? body.error : (body.error?.message ?? body.message)
  } catch {
    return undefined
  }
  return typeof message === 'string' && message ? message.slice(0, MAX_MESSAGE_CHARS) : undefined
}

async function readBounded(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return ''
  const reader = response.body.getReader()
  const decoder = new TextDecoder()
  let text = ''
  let bytes = 0
  try {
    while (bytes < maxBytes) {
      const { done, value } = await reader.read()
      if (done) break
      bytes += value.byteLength
      text += decoder.decode(value, { stream: true })
    }
  } catch {
    // A body that breaks off has told us all it will.
  } finally {
    reader.cancel().catch(() => {})
  }
  return text
}
