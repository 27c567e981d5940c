import * as v from 'valibot'
import { configInvalid, GatewayError } from '../errors'
import { log } from '../log'
import { accessConfig, accessSettings, type AccessConfig } from './access'
import { optionalBinding } from './bindings'
import { keySecretsOf, modelConfig, type ModelConfig } from './models'
import { nonEmpty } from './parts'

/** A whole number of milliseconds or a count, given as a string var (the way wrangler passes vars). */
const countString = (min: number) =>
  v.pipe(v.string(), v.transform(Number), v.number('is not a number'), v.integer(), v.minValue(min))
const count = (fallback: number, min = 1) => v.optional(countString(min), String(fallback))

const settings = v.object({
  DEFAULT_MODEL: v.optional(v.string(), 'demo'),
  MODELS: v.pipe(v.unknown(), v.rawTransform(parseJsonString), v.record(nonEmpty(), modelConfig)),
  HEARTBEAT_MS: count(15_000),
  RETRY_MS: count(3_000, 0),
  UPSTREAM_HEADERS_TIMEOUT_MS: count(120_000),
  UPSTREAM_IDLE_TIMEOUT_MS: count(600_000),
  STREAM_DEADLINE_MS: count(1_800_000),
  MAX_BODY_BYTES: count(256 * 1024),
  MAX_MESSAGES: count(100),
  MAX_MESSAGE_CHARS: count(32 * 1024),
  MAX_IMAGES: count(10, 0),
  MAX_IMAGE_BYTES: count(5 * 1024 * 1024),
  CORS_ALLOWED_ORIGINS: v.optional(v.pipe(v.string(), v.rawTransform(parseOrigins)), ''),
  STREAM_RETENTION_MS: count(3_600_000),
  /** Empty (the default): never abandon an answer; it is kept for whoever comes back to it. */
  STREAM_ABANDON_MS: v.optional(v.union([v.literal(''), countString(1)]), ''),
  STREAM_MAX_BYTES: count(8 * 1024 * 1024),
  /** How long a resumable answer's events may wait in memory for their write (one row per window). */
  STREAM_FLUSH_MS: count(750),
  USAGE_RETENTION_DAYS: count(90),
  ...accessSettings,
})

type TransformContext<T> = Parameters<Parameters<typeof v.rawTransform<T, unknown>>[0]>[0]

/** "*" (any origin, only when chosen explicitly), or a comma-separated list of exact origins. */
function parseOrigins({ dataset, addIssue }: TransformContext<string>): '*' | string[] {
  const value = dataset.value
  if (value.trim() === '*') return '*'
  const origins = value.split(/[\s,]+/).filter(Boolean)
  for (const origin of origins) {
    let parsed: URL | undefined
    try {
      parsed = new URL(origin)
    } catch {
      // reported below
    }
    if (parsed?.origin !== origin) addIssue({ message: `"${origin}" is not an origin like https://example.com` })
  }
  return origins
}

/** `wrangler dev --var MODELS:'{...}'` passes a string where wrangler.toml gives an object. */
function parseJsonString({ dataset, addIssue, NEVER }: TransformContext<unknown>): unknown {
  const value = dataset.value
  if (typeof value !== 'string') return value
  try {
    return JSON.parse(value)
  } catch {
    addIssue({ message: 'is a string but not valid JSON' })
    return NEVER
  }
}

export interface GatewayConfig {
  defaultModel: string
  models: Record<string, ModelConfig>
  heartbeatMs: number
  retryMs: number
  upstreamHeadersTimeoutMs: number
  upstreamIdleTimeoutMs: number
  streamDeadlineMs: number
  maxBodyBytes: number
  maxMessages: number
  maxMessageChars: number
  /** Images per request. */
  maxImages: number
  /** Decoded bytes of one `data:` image (images also count toward `maxBodyBytes`). */
  maxImageBytes: number
  /** Other origins whose pages may call the API; the Worker's own origin needs no entry. */
  corsAllowedOrigins: '*' | string[]
  /** How long a resumable stream is kept after its terminal event. */
  streamRetentionMs: number
  /** Cancel a resumable answer nobody has read for this long; null: never. */
  streamAbandonMs: number | null
  /** The most event data one resumable stream may store. */
  streamMaxBytes: number
  /** At most one storage write per this many ms while a resumable answer runs. */
  streamFlushMs: number
  /** Days the usage ledger keeps each answer's record; older days are kept as daily rollups. */
  usageRetentionDays: number
  /** Who may call and what each may spend (`src/access/`). */
  access: AccessConfig
}

/** Parses once per `env` object, which the runtime keeps for the life of the isolate. */
const cache = new WeakMap<object, GatewayConfig | GatewayError>()

/**
 * Reads and validates the gateway's configuration from the Worker's bindings. A mistake is
 * reported once, as one error naming every bad setting, instead of surfacing on some later token.
 */
export function loadConfig(env: Env): GatewayConfig {
  let config = cache.get(env)
  if (!config) {
    config = parseConfig(env)
    cache.set(env, config)
  }
  if (config instanceof GatewayError) throw config
  return config
}

function parseConfig(env: Env): GatewayConfig | GatewayError {
  const result = v.safeParse(settings, env)
  if (!result.success) {
    return invalid(result.issues.map((issue) => `${v.getDotPath(issue) ?? '(env)'}: ${issue.message}`))
  }
  const s = result.output
  const problems: string[] = []
  if (!Object.hasOwn(s.MODELS, s.DEFAULT_MODEL))
    problems.push(`DEFAULT_MODEL: "${s.DEFAULT_MODEL}" is not one of MODELS`)
  for (const [name, model] of Object.entries(s.MODELS)) {
    for (const fallback of model.fallbacks) {
      if (!Object.hasOwn(s.MODELS, fallback))
        problems.push(`MODELS.${name}.fallbacks: "${fallback}" is not one of MODELS`)
      if (fallback === name) problems.push(`MODELS.${name}.fallbacks: a model cannot be its own fallback`)
    }
    if ((model.adapter === 'anthropic' || model.adapter === 'gemini') && !keySecretsOf(model).length)
      problems.push(`MODELS.${name}: needs api_key_secret or api_key_secrets`)
    if (model.adapter === 'anthropic' && (model.thinking_budget_tokens ?? 0) >= model.max_tokens)
      problems.push(`MODELS.${name}.thinking_budget_tokens: must be below max_tokens (${model.max_tokens})`)
  }
  const access = accessConfig(s, s.MODELS, optionalBinding(env, 'PRINCIPAL_LIMITS') !== undefined, problems)
  if (problems.length) return invalid(problems)
  return {
    defaultModel: s.DEFAULT_MODEL,
    models: s.MODELS,
    heartbeatMs: s.HEARTBEAT_MS,
    retryMs: s.RETRY_MS,
    upstreamHeadersTimeoutMs: s.UPSTREAM_HEADERS_TIMEOUT_MS,
    upstreamIdleTimeoutMs: s.UPSTREAM_IDLE_TIMEOUT_MS,
    streamDeadlineMs: s.STREAM_DEADLINE_MS,
    maxBodyBytes: s.MAX_BODY_BYTES,
    maxMessages: s.MAX_MESSAGES,
    maxMessageChars: s.MAX_MESSAGE_CHARS,
    maxImages: s.MAX_IMAGES,
    maxImageBytes: s.MAX_IMAGE_BYTES,
    corsAllowedOrigins: s.CORS_ALLOWED_ORIGINS,
    streamRetentionMs: s.STREAM_RETENTION_MS,
    streamAbandonMs: s.STREAM_ABANDON_MS === '' ? null : s.STREAM_ABANDON_MS,
    streamMaxBytes: s.STREAM_MAX_BYTES,
    streamFlushMs: s.STREAM_FLUSH_MS,
    usageRetentionDays: s.USAGE_RETENTION_DAYS,
    access,
  }
}

/**
 * The details go to the Worker's log, where the operator looks; clients only learn that the
 * gateway is misconfigured, since setting names and values are none of their business.
 */
function invalid(problems: string[]): GatewayError {
  log.error('gateway configuration is invalid', { problems })
  return configInvalid()
}
