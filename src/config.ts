import * as v from 'valibot'
import type { PrincipalLimits } from './access/principal-limits'
import { accessConfig, accessSettings, type AccessConfig } from './access/settings'
import { GatewayError } from './errors'
import type { AnswerStream } from './streams/answer-stream'
import type { ChatIndex } from './streams/chat-index'

/** The Worker's bindings: [vars] from wrangler.toml plus secrets (API keys, by the names the models give). */
export interface Env {
  DEFAULT_MODEL?: string
  /** Public model name -> model config; an object in wrangler.toml, or the same as a JSON string. */
  MODELS?: unknown
  HEARTBEAT_MS?: string
  RETRY_MS?: string
  UPSTREAM_HEADERS_TIMEOUT_MS?: string
  UPSTREAM_IDLE_TIMEOUT_MS?: string
  STREAM_DEADLINE_MS?: string
  MAX_BODY_BYTES?: string
  MAX_MESSAGES?: string
  MAX_MESSAGE_CHARS?: string
  MAX_IMAGES?: string
  MAX_IMAGE_BYTES?: string
  CORS_ALLOWED_ORIGINS?: string
  STREAM_RETENTION_MS?: string
  STREAM_ABANDON_MS?: string
  STREAM_MAX_BYTES?: string
  /** The Durable Objects that own resumable answers (`/api/streams`). */
  ANSWER_STREAMS?: DurableObjectNamespace<AnswerStream>
  /** Access control (`src/access/`): API key hashes, JWT verification, what anonymous callers may use. */
  API_KEYS?: unknown
  JWT?: unknown
  ANONYMOUS_MODELS?: string
  ANONYMOUS_DAILY_TOKENS?: string
  ANONYMOUS_CONCURRENT_STREAMS?: string
  /** `[[ratelimits]]` bindings: callers with credentials (by principal), anonymous callers (by IP). */
  RATE_LIMIT?: RateLimit
  RATE_LIMIT_ANONYMOUS?: RateLimit
  /** One object per principal: daily token budget and concurrent streams. */
  PRINCIPAL_LIMITS?: DurableObjectNamespace<PrincipalLimits>
  /** The Durable Objects that know each chat's active answer (`/api/ui/chat`). */
  CHAT_INDEX?: DurableObjectNamespace<ChatIndex>
  [secretName: string]: unknown
}

const wholeNumber = (min = 0) => v.pipe(v.number(), v.integer(), v.minValue(min))
const nonEmpty = () => v.pipe(v.string(), v.minLength(1))
const httpUrl = () =>
  v.pipe(
    v.string(),
    v.url(),
    v.check((url) => /^https?:\/\//i.test(url), 'must be an http or https URL'),
  )

/** Settings every model has, whatever serves it. */
const everyModel = {
  /**
   * Models to try, in order, when this one fails before answering (unreachable, 429, 5xx, header
   * timeout). Never once text has been sent: two answers must not be spliced together.
   */
  fallbacks: v.optional(v.array(nonEmpty()), () => []),
  /** Whether the model reads images; `false` refuses a request holding one with a 400 naming it. */
  vision: v.optional(v.boolean(), true),
  /** The most `max_tokens` a caller may ask of this model; larger requests are lowered to it. */
  max_tokens_ceiling: v.optional(wholeNumber(1)),
}

const demoModel = v.strictObject({
  ...everyModel,
  adapter: v.literal('demo'),
  /** Pause before each token, to look like a real model. */
  token_delay_ms: v.optional(v.pipe(wholeNumber(), v.maxValue(60_000)), 30),
  /** Fail mid-stream after this many tokens, as an overloaded upstream does. */
  fail_after_tokens: v.optional(wholeNumber()),
  /** Fall silent for `silence_ms` after this many tokens (shows heartbeats and idle timeouts). */
  silence_after_tokens: v.optional(wholeNumber()),
  silence_ms: v.optional(wholeNumber(), 0),
})

const openAIModel = v.strictObject({
  ...everyModel,
  adapter: v.literal('openai'),
  base_url: httpUrl(),
  upstream_model: nonEmpty(),
  /** Name of the secret holding the key; omit for keyless upstreams (a local Ollama or vLLM). */
  api_key_secret: v.optional(nonEmpty()),
})

const anthropicModel = v.strictObject({
  ...everyModel,
  adapter: v.literal('anthropic'),
  base_url: v.optional(httpUrl(), 'https://api.anthropic.com/v1'),
  upstream_model: nonEmpty(),
  api_key_secret: nonEmpty(),
  /** Anthropic requires a limit on every request; this applies when the client sets none. */
  max_tokens: v.optional(wholeNumber(1), 4096),
  /** Turns on extended thinking with this budget (at least 1024, below `max_tokens`); off when unset. */
  thinking_budget_tokens: v.optional(wholeNumber(1024)),
})

const geminiModel = v.strictObject({
  ...everyModel,
  adapter: v.literal('gemini'),
  base_url: v.optional(httpUrl(), 'https://generativelanguage.googleapis.com/v1beta'),
  upstream_model: nonEmpty(),
  api_key_secret: nonEmpty(),
  /** Asks a thinking model for its thought summaries, streamed as `reasoning`. */
  include_thoughts: v.optional(v.boolean(), false),
  /** The model's thinking budget in tokens (0 turns thinking off where the model allows); its default when unset. */
  thinking_budget_tokens: v.optional(wholeNumber()),
})

const workersAIModel = v.strictObject({
  ...everyModel,
  adapter: v.literal('workers-ai'),
  upstream_model: nonEmpty(),
  /** The name of the AI binding in wrangler.toml (`[ai] binding = "AI"`). */
  binding: v.optional(nonEmpty(), 'AI'),
  /** Whether the model supports function calling (see its page in the Workers AI catalog). */
  tools: v.optional(v.boolean(), false),
})

const modelConfig = v.variant('adapter', [demoModel, openAIModel, anthropicModel, geminiModel, workersAIModel])

export type DemoModelConfig = v.InferOutput<typeof demoModel>
export type OpenAIModelConfig = v.InferOutput<typeof openAIModel>
export type AnthropicModelConfig = v.InferOutput<typeof anthropicModel>
export type GeminiModelConfig = v.InferOutput<typeof geminiModel>
export type WorkersAIModelConfig = v.InferOutput<typeof workersAIModel>
export type ModelConfig = v.InferOutput<typeof modelConfig>

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
    if (model.adapter === 'anthropic' && (model.thinking_budget_tokens ?? 0) >= model.max_tokens)
      problems.push(`MODELS.${name}.thinking_budget_tokens: must be below max_tokens (${model.max_tokens})`)
  }
  const access = accessConfig(s, s.MODELS, env.PRINCIPAL_LIMITS !== undefined, problems)
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
    access,
  }
}

/**
 * The details go to the Worker's log, where the operator looks; clients only learn that the
 * gateway is misconfigured, since setting names and values are none of their business.
 */
function invalid(problems: string[]): GatewayError {
  console.error(JSON.stringify({ level: 'error', msg: 'gateway configuration is invalid', problems }))
  return new GatewayError(500, 'config_invalid', "The gateway's configuration is invalid; its log names the problem.", {
    retryable: false,
  })
}
