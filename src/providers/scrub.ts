/**
 * What an upstream's own words may carry that nobody else should read. Upstream error messages
 * are written for the account holder: OpenAI's 401 quotes the key it was given
 * (`Incorrect API key provided: sk-abc***xyz`), its 429s name the organisation (`org-…`), a
 * proxy's 503 names the host behind it (`http://internal-vllm.svc.cluster.local:8000`). Clients
 * never get that text verbatim; the log gets it without the secrets.
 *
 * Patterns, not a parser: they remove anything that looks like one of these, and may take a
 * harmless word with it now and then. That is the right way to be wrong here.
 */

/** Credentials of the shapes providers and proxies issue, and tokens long enough to be one. */
const SECRETS: RegExp[] = [
  /\bBearer\s+[\w.~+/=*-]+/gi, // an Authorization header, quoted back
  /\bBasic\s+[A-Za-z0-9+/=]{8,}/g,
  /\beyJ[\w-]*\.[\w-]+\.[\w-]*/g, // a JWT
  /\b(?:sk|pk|rk|ak)-[\w*.-]{3,}/g, // OpenAI (sk-proj-…), Anthropic (sk-ant-…), most compatible servers
  /\bAIza[\w-]{10,}/g, // Google API keys
  /\b(?:gsk|xai|hf|ghp|gho|ghs|github_pat|glpat|csk|nvapi|r8|pplx|fw|tgp)_[\w-]{8,}/g, // other providers' prefixes
  /\b(?:api[_-]?key|key|token|secret|password)=[^\s&"']+/gi, // in a query string or a config dump
]
/** An opaque token: 32 or more characters of a key's alphabet, letters and digits mixed. */
const OPAQUE_TOKEN = /[\w+/=-]{32,}/g

/** Organisation and project ids (OpenAI's `org-…`, `proj_…`), which name the account behind the gateway. */
const ACCOUNT_IDS = /\b(?:org|proj|project|acct|user)[-_][A-Za-z0-9]{6,}\b/g

/** Anything a client could use to learn the gateway's network: URLs, e-mail addresses, host names, IPs. */
const URL = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi
const EMAIL = /\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b/g
const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b/g
/** Hex groups and colons: an IPv6 address when it has `::` or at least three colons (a clock has two). */
const IPV6_LIKE = /(?<![\w:])\[?(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}\]?(?::\d{1,5})?(?![\w:])/gi
/**
 * Host names: dotted names ending in a top-level domain or a suffix internal networks use, or a
 * name of letters with digits or hyphens before a port (`vllm-0:8000`; not a clock's `12:30`, nor
 * `tokens:4096`). Not every dotted word: `messages.0.content` in a 400's reason is the part
 * that helps the caller.
 */
const HOST =
  /\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:com|net|org|io|ai|dev|app|cloud|co|us|uk|de|eu|fr|jp|cn|in|xyz|sh|me|info|biz|local|localdomain|internal|intranet|lan|corp|home|svc|cluster|localhost)\b(?::\d{1,5})?|\blocalhost(?::\d{1,5})?\b|\b(?=[a-z0-9-]*[a-z])(?=[a-z0-9-]*[-\d])[a-z0-9-]+:\d{2,5}\b/gi

/** Longest reason passed on to a client: a reason, not a document. */
const MAX_CLIENT_CHARS = 300

/** Upstream text for the operator's log: its credentials removed, everything else kept. */
export function redactSecrets(text: string): string {
  let redacted = text
  for (const pattern of SECRETS) redacted = redacted.replace(pattern, '[redacted]')
  return redacted.replace(OPAQUE_TOKEN, (match) => (/\d/.test(match) && /[a-z]/i.test(match) ? '[redacted]' : match))
}

/**
 * Upstream text a client may read: its credentials, account ids, URLs, addresses and host names
 * removed, shortened to a reason. For a 400, where the upstream's reason (a bad parameter, a
 * prompt too long) is what lets the caller fix the request.
 */
export function scrubForClient(text: string): string {
  const scrubbed = redactSecrets(text)
    .replace(URL, '[url]')
    .replace(EMAIL, '[email]')
    .replace(ACCOUNT_IDS, '[account]')
    .replace(IPV4, '[address]')
    .replace(IPV6_LIKE, (match) => (match.includes('::') || match.split(':').length > 3 ? '[address]' : match))
    .replace(HOST, '[host]')
    .replace(/\s+/g, ' ')
    .trim()
  return scrubbed.length > MAX_CLIENT_CHARS ? `${scrubbed.slice(0, MAX_CLIENT_CHARS - 1)}…` : scrubbed
}
