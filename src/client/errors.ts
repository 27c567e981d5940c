/** One field of a refused request and what is wrong with it (`messages.0.content`, say). */
export interface ErrorIssue {
  path: string
  message: string
}

/**
 * Why a stream did not produce a complete answer:
 * - `http`: the gateway refused the request (status and code from its JSON error body);
 * - `content_type`: the response was not an event stream (a proxy's error page, say);
 * - `upstream`: the stream ended with an `error` event (code `cancelled` after a stop);
 * - `truncated`: the stream ended without a terminal event: the connection was cut somewhere;
 * - `network`: the request could not be made at all.
 */
export class ChatStreamError extends Error {
  override readonly name = 'ChatStreamError'

  constructor(
    readonly kind: 'http' | 'content_type' | 'upstream' | 'truncated' | 'network',
    message: string,
    readonly details: { code?: string; status?: number; retryable?: boolean; issues?: ErrorIssue[] } = {},
  ) {
    super(message)
  }

  get code(): string | undefined {
    return this.details.code
  }
  get status(): number | undefined {
    return this.details.status
  }
  /** For a refused request (`http`, 400): each field at fault and what is wrong with it. */
  get issues(): ErrorIssue[] {
    return this.details.issues ?? []
  }
  get retryable(): boolean {
    return this.details.retryable ?? this.kind !== 'http'
  }
}

/** The gateway's JSON error body as a `ChatStreamError`, or the bare status for anything else. */
export async function refusal(response: Response): Promise<ChatStreamError> {
  let error: { code?: string; message?: string; retryable?: boolean; issues?: ErrorIssue[] } = {}
  try {
    error = ((await response.json()) as { error?: typeof error }).error ?? {}
  } catch {
    // Not our JSON error body (a proxy's page); the status says enough.
  }
  return new ChatStreamError('http', error.message ?? `The gateway answered ${response.status}.`, {
    code: error.code,
    status: response.status,
    retryable: error.retryable,
    issues: Array.isArray(error.issues) ? error.issues : undefined,
  })
}

/** `fetch`, with a failure to connect as a `ChatStreamError` (an abort is rethrown as it is). */
export async function request(fetchImpl: typeof fetch, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetchImpl(url, init)
  } catch (error) {
    if (init.signal?.aborted) throw error
    throw new ChatStreamError('network', `Could not reach the gateway: ${String(error)}`)
  }
}
