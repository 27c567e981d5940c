/** One entry of a validation failure: where in the request, and what is wrong there. */
export interface ErrorIssue {
  path: string
  message: string
}

/**
 * The most issues a refusal lists: the first ones, in the order found. A body of 127,000 bad
 * items is one mistake made many times; listing each made a 10 MB answer to a 254 KB request.
 */
export const MAX_ISSUES = 20
/** Longest path or message an issue carries: paths and messages can quote the caller's own strings. */
const MAX_ISSUE_CHARS = 256
/** Longest error message: ours are a sentence; one that quotes a caller's string is cut. */
const MAX_MESSAGE_CHARS = 1024

export interface GatewayErrorOptions {
  /** Validation failures, one per offending path; at most `MAX_ISSUES` are kept. */
  issues?: ErrorIssue[]
  /** Seconds, passed on as `Retry-After` (from an upstream 429 or 503). */
  retryAfter?: string
  /** Whether the same request may succeed later. */
  retryable?: boolean
  /** Extra response headers, such as `Allow` on a 405. */
  headers?: Record<string, string>
}

/**
 * A failure with a stable machine-readable `code`, an HTTP status for when it happens before
 * streaming starts, and a message that is safe to show a client (never a secret, upstream URL
 * or stack trace).
 */
export class GatewayError extends Error {
  override readonly name = 'GatewayError'
  readonly retryable: boolean
  readonly options: GatewayErrorOptions

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options: GatewayErrorOptions = {},
  ) {
    super(clipped(message, MAX_MESSAGE_CHARS))
    this.options = options.issues ? { ...options, issues: boundedIssues(options.issues) } : options
    this.retryable = options.retryable ?? (status === 429 || status >= 500)
  }

  /** The `{ "error": { ... } }` JSON response sent before any streaming has begun. */
  toResponse(): Response {
    const body = {
      error: {
        code: this.code,
        message: this.message,
        retryable: this.retryable,
        ...(this.options.issues && { issues: this.options.issues }),
      },
    }
    const headers = new Headers(this.options.headers)
    headers.set('Content-Type', 'application/json; charset=utf-8')
    if (this.options.retryAfter) headers.set('Retry-After', this.options.retryAfter)
    return new Response(JSON.stringify(body), { status: this.status, headers })
  }
}

/**
 * A 400 for a part of a request that is valid but cannot be carried: by this model (an image to a
 * model without vision), by its provider (`response_format` to Anthropic), or by the gateway
 * (`n: 3`). `path` names the field, so the caller knows what to drop; never silently ignored.
 */
export function unsupportedParameter(path: string, message: string): GatewayError {
  return new GatewayError(400, 'unsupported_parameter', `${path}: ${message}`, {
    retryable: false,
    issues: [{ path, message }],
  })
}

/** 400 for a request that does not match its surface's schema (`schema` names it), listing every offending path. */
export function invalidRequest(schema: string, issues: ErrorIssue[]): GatewayError {
  return new GatewayError(400, 'invalid_request', `The request does not match the ${schema} schema.`, {
    retryable: false,
    issues,
  })
}

/** 405 for a method a route does not take, with the `Allow` header that says which it does. */
export function methodNotAllowed(allow: string, message: string): GatewayError {
  return new GatewayError(405, 'method_not_allowed', message, { retryable: false, headers: { Allow: allow } })
}

/**
 * 500 for a deployment the gateway cannot run as configured. The details go to the Worker's log,
 * where the operator looks; clients only learn that it is misconfigured, since setting names and
 * values are none of their business.
 */
export function configInvalid(): GatewayError {
  return new GatewayError(500, 'config_invalid', "The gateway's configuration is invalid; its log names the problem.", {
    retryable: false,
  })
}

/** The first `MAX_ISSUES` issues, each path and message cut to `MAX_ISSUE_CHARS`. */
function boundedIssues(issues: ErrorIssue[]): ErrorIssue[] {
  return issues.slice(0, MAX_ISSUES).map(({ path, message }) => ({
    path: clipped(path, MAX_ISSUE_CHARS),
    message: clipped(message, MAX_ISSUE_CHARS),
  }))
}

/** `text`, or its first `max` characters and an ellipsis. */
export function clipped(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}
