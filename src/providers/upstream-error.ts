import { log } from '../log'
import { redactSecrets, scrubForClient } from './scrub'
import type { UpstreamEvent } from './types'

/** What kind of failure an upstream reported, as far as its error type or status tells. */
export type UpstreamErrorClass = 'invalid_request' | 'passing' | 'other'

/** Longest upstream text logged: enough for any real error, bounded against a hostile one. */
const MAX_LOGGED_CHARS = 2000

/** Our message for each class: what the client reads instead of the upstream's words. */
const MESSAGES: Record<UpstreamErrorClass, string> = {
  invalid_request: 'The model provider rejected the request',
  passing: 'The model provider failed while answering; asking again may work.',
  other: 'The model provider stopped the answer with an error.',
}

/**
 * The error event for a failure an upstream reports in the middle of its stream (an HTTP 200
 * that goes wrong). The client gets our code and message for the class, and for a request the
 * upstream found wrong, its reason with anything that could name a key, host or account removed;
 * the upstream's own text goes to the log, without its secrets. `code` is ours for the failure
 * (`upstream_error` unless the decoder knows better, as Anthropic's `overloaded_error` does).
 */
export function midStreamError(
  upstreamMessage: unknown,
  kind: UpstreamErrorClass,
  { upstreamType, code = 'upstream_error' }: { upstreamType?: string | undefined; code?: string } = {},
): UpstreamEvent {
  const text = typeof upstreamMessage === 'string' ? upstreamMessage : ''
  logUpstreamError('upstream error mid-stream', text, { type: upstreamType })
  const reason = kind === 'invalid_request' && text ? scrubForClient(text) : ''
  return {
    type: 'error',
    code,
    message: kind === 'invalid_request' ? withReason(MESSAGES.invalid_request, reason) : MESSAGES[kind],
    retryable: kind === 'passing',
  }
}

/** `message: reason.`, or `message.` when the upstream gave no reason worth passing on. */
export function withReason(message: string, reason: string): string {
  return reason ? `${message}: ${reason}` : `${message}.`
}

/** The upstream's own words, for the operator: secrets removed, length bounded. */
export function logUpstreamError(msg: string, text: string, fields: Record<string, unknown> = {}): void {
  if (!text) return void log.warn(msg, fields)
  log.warn(msg, { ...fields, upstreamMessage: redactSecrets(text.slice(0, MAX_LOGGED_CHARS)) })
}
