import { GatewayError } from '../errors'
import type { UpstreamRequest } from '../request/native-request'
import type { ProviderAdapter, UpstreamStream } from '../providers/types'

export interface OpenUpstreamOptions {
  /** How long the upstream has to answer with headers. */
  headersTimeoutMs: number
  /** Aborts when the client goes away (the request's signal). */
  signal: AbortSignal
}

/** 499: nginx's "client closed request". Nobody reads it; it keeps logs honest. */
const CLIENT_CLOSED = 499

/** What opening an answer fails with when the one waiting for it has gone. */
export function clientClosed(): GatewayError {
  return new GatewayError(CLIENT_CLOSED, 'client_closed', 'The client closed the request.')
}

/**
 * Opens the upstream for a request, giving up with a 504 when it does not answer with headers in
 * time, and abandoning it at once when the client leaves before it has answered.
 */
export async function openUpstream(
  adapter: ProviderAdapter,
  request: UpstreamRequest,
  { headersTimeoutMs, signal }: OpenUpstreamOptions,
): Promise<UpstreamStream> {
  const upstream = new AbortController()
  const clientLeft = () => upstream.abort(clientClosed())
  if (signal.aborted) clientLeft()
  signal.addEventListener('abort', clientLeft, { once: true })
  const timer = setTimeout(
    () => upstream.abort(new GatewayError(504, 'upstream_timeout', 'The model provider did not answer in time.')),
    headersTimeoutMs,
  )
  try {
    return await adapter.open(request, { signal: upstream.signal })
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', clientLeft)
  }
}
