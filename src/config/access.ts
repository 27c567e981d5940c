import * as v from 'valibot'
import { httpUrl, nonEmpty, wholeNumber } from './parts'

/**
 * The access-control part of the configuration: who may call (API keys, JWTs, anonymous callers)
 * and what each may spend. Validated with the rest of the config in `./load.ts`, so a mistake
 * here is reported with every other one, once, in the log.
 */

/** Which models a principal may use: names from MODELS, or `"*"` for all of them. */
const modelList = () => v.pipe(v.array(nonEmpty()), v.minLength(1))

/** What one principal may spend. A limit left out is not enforced. */
const limits = {
  /** Tokens (prompt + completion) per UTC day. */
  daily_tokens: v.optional(wholeNumber(1)),
  /** Answers streaming at the same time. */
  concurrent_streams: v.optional(wholeNumber(1)),
}

const apiKey = v.strictObject({
  /** SHA-256 of the key, hex; the key itself is never stored (`npm run key:new -- NAME` prints both). */
  sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/i, 'must be the 64 hex digits of a SHA-256')),
  models: modelList(),
  ...limits,
  /** May read everyone's usage (`GET /api/admin/usage`, the `/admin` dashboard). */
  admin: v.optional(v.boolean(), false),
})

/** The asymmetric algorithms a JWKS may sign with. `none` and HMAC are never among them. */
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const

const jwt = v.pipe(
  v.strictObject({
    /** Where the identity provider publishes its public keys (Cloudflare Access: `<team>/cdn-cgi/access/certs`). */
    jwks_url: v.optional(httpUrl()),
    /** The algorithms accepted from the JWKS; a token naming any other is refused. */
    algorithms: v.optional(v.pipe(v.array(v.picklist(ASYMMETRIC)), v.minLength(1)), () => ['RS256' as const]),
    /** The NAME of the secret holding an HS256 key shared with the app's backend (instead of `jwks_url`). */
    hs256_secret: v.optional(nonEmpty()),
    /** Required `iss` claim. */
    issuer: nonEmpty(),
    /** Required `aud` claim (one of them, when the token lists several). */
    audience: nonEmpty(),
    models: modelList(),
    ...limits,
  }),
  v.check(
    (config) => (config.jwks_url === undefined) !== (config.hs256_secret === undefined),
    'needs exactly one of jwks_url and hs256_secret',
  ),
)

type TransformContext<T> = Parameters<Parameters<typeof v.rawTransform<T, unknown>>[0]>[0]

/** `wrangler dev --var API_KEYS:'{...}'` passes a string where wrangler.toml gives an object. */
function fromJsonString({ dataset, addIssue, NEVER }: TransformContext<unknown>): unknown {
  if (typeof dataset.value !== 'string') return dataset.value
  try {
    return JSON.parse(dataset.value)
  } catch {
    addIssue({ message: 'is a string but not valid JSON' })
    return NEVER
  }
}

const optionalCount = () =>
  v.optional(v.pipe(v.string(), v.transform(Number), v.number('is not a number'), v.integer(), v.minValue(1)))

/** The entries `../config.ts` adds to its settings schema. */
export const accessSettings = {
  /** Key name -> its hash and limits. */
  API_KEYS: v.optional(
    v.pipe(
      v.unknown(),
      v.rawTransform(fromJsonString),
      v.record(v.pipe(v.string(), v.regex(/^[\w-]{1,64}$/, 'key names are letters, digits, _ and -')), apiKey),
    ),
    {},
  ),
  JWT: v.optional(v.pipe(v.unknown(), v.rawTransform(fromJsonString), jwt)),
  /** Comma-separated model names anyone may use without credentials; unset: every demo model. */
  ANONYMOUS_MODELS: v.optional(v.string()),
  /** Limits for each anonymous client IP; unset: none (the rate limit still applies). */
  ANONYMOUS_DAILY_TOKENS: optionalCount(),
  ANONYMOUS_CONCURRENT_STREAMS: optionalCount(),
  /** Comma-separated JWT subjects (`sub`) who are admins, as an API key with `admin = true` is. */
  ADMIN_SUBJECTS: v.optional(v.string(), ''),
}

/** What a principal may use and spend. */
export interface AccessPolicy {
  /** Model names, or `'*'` for every configured model. */
  models: '*' | string[]
  dailyTokens?: number
  concurrentStreams?: number
}

export interface ApiKeyEntry {
  name: string
  policy: AccessPolicy
  /** May read everyone's usage. */
  admin: boolean
}

export interface JwtSettings {
  /** `jwks` verifies against the identity provider's published keys, `hs256` against a shared secret. */
  verifier:
    | { kind: 'jwks'; url: string; algorithms: readonly (typeof ASYMMETRIC)[number][] }
    | { kind: 'hs256'; secretName: string }
  issuer: string
  audience: string
  policy: AccessPolicy
}

export interface AccessConfig {
  /** Lowercase hex SHA-256 of a key -> that key. */
  apiKeysByHash: Map<string, ApiKeyEntry>
  jwt?: JwtSettings
  anonymous: AccessPolicy
  /** JWT subjects who are admins (`ADMIN_SUBJECTS`). */
  adminSubjects: ReadonlySet<string>
}

type ParsedAccessSettings = v.InferOutput<v.ObjectSchema<typeof accessSettings, undefined>>

/**
 * Builds the access config from validated settings, adding to `problems` what only makes sense
 * against the rest of the config: a model that does not exist, a limit without the object that
 * enforces it.
 */
export function accessConfig(
  s: ParsedAccessSettings,
  models: Record<string, { adapter: string }>,
  hasLimitsBinding: boolean,
  problems: string[],
): AccessConfig {
  const checkModels = (path: string, names: string[]): AccessPolicy['models'] => {
    if (names.includes('*')) return '*'
    for (const name of names) {
      if (!Object.hasOwn(models, name)) problems.push(`${path}: "${name}" is not one of MODELS`)
    }
    return names
  }
  const policyOf = (path: string, entry: { models: string[]; daily_tokens?: number; concurrent_streams?: number }) => {
    const policy: AccessPolicy = { models: checkModels(`${path}.models`, entry.models) }
    if (entry.daily_tokens !== undefined) policy.dailyTokens = entry.daily_tokens
    if (entry.concurrent_streams !== undefined) policy.concurrentStreams = entry.concurrent_streams
    if ((policy.dailyTokens || policy.concurrentStreams) && !hasLimitsBinding) {
      problems.push(`${path}: token budgets and concurrent streams need the PRINCIPAL_LIMITS Durable Object binding`)
    }
    return policy
  }

  const apiKeysByHash = new Map<string, ApiKeyEntry>()
  for (const [name, entry] of Object.entries(s.API_KEYS)) {
    const hash = entry.sha256.toLowerCase()
    const other = apiKeysByHash.get(hash)
    if (other) problems.push(`API_KEYS.${name}: same sha256 as API_KEYS.${other.name}`)
    apiKeysByHash.set(hash, { name, policy: policyOf(`API_KEYS.${name}`, entry), admin: entry.admin })
  }

  let jwt: JwtSettings | undefined
  if (s.JWT) {
    const j = s.JWT
    jwt = {
      verifier: j.jwks_url
        ? { kind: 'jwks', url: j.jwks_url, algorithms: j.algorithms }
        : { kind: 'hs256', secretName: j.hs256_secret! },
      issuer: j.issuer,
      audience: j.audience,
      policy: policyOf('JWT', j),
    }
  }

  // Unset means the demo models: they cost nothing, and a fresh deploy never opens a paid model.
  const anonymousNames =
    s.ANONYMOUS_MODELS === undefined
      ? Object.keys(models).filter((name) => models[name]!.adapter === 'demo')
      : s.ANONYMOUS_MODELS.split(/[\s,]+/).filter(Boolean)
  if (anonymousNames.includes('*')) problems.push('ANONYMOUS_MODELS: list the models by name; "*" is not allowed here')
  const anonymous = policyOf('ANONYMOUS_MODELS', {
    models: anonymousNames.length ? anonymousNames.filter((n) => n !== '*') : [],
    daily_tokens: s.ANONYMOUS_DAILY_TOKENS,
    concurrent_streams: s.ANONYMOUS_CONCURRENT_STREAMS,
  })
  const adminSubjects = new Set(s.ADMIN_SUBJECTS.split(/[\s,]+/).filter(Boolean))
  if (adminSubjects.size && !jwt) problems.push('ADMIN_SUBJECTS: names JWT subjects, but JWT is not configured')
  return { apiKeysByHash, jwt, anonymous, adminSubjects }
}
