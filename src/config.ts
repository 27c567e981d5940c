import * as z from 'zod/mini'
import './schema/zod'
import { GatewayError } from './errors'

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
  CORS_ALLOWED_ORIGINS?: string
  [secretName: string]: unknown
}

const wholeNumber = (min = 0) => z.int().check(z.minimum(min))
const nonEmpty = () => z.string().check(z.minLength(1))

/** Settings every model has, whatever serves it. */
const everyModel = {
  /**
   * Models to try, in order, when this one fails before answering (unreachable, 429, 5xx, header
   * timeout). Never once text has been sent: two answers must not be spliced together.
   */
  fallbacks: z._default(z.array(nonEmpty()), []),
}

const demoModel = z.strictObject({
  ...everyModel,
  adapter: z.literal('demo'),
  /** Pause before each token, to look like a real model. */
  token_delay_ms: z._default(wholeNumber().check(z.maximum(60_000)), 30),
  /** Fail mid-stream after this many tokens, as an overloaded upstream does. */
  fail_after_tokens: z.optional(wholeNumber()),
  /** Fall silent for `silence_ms` after this many tokens (shows heartbeats and idle timeouts). */
  silence_after_tokens: z.optional(wholeNumber()),
  silence_ms: z._default(wholeNumber(), 0),
})

const openAIModel = z.strictObject({
  ...everyModel,
  adapter: z.literal('openai'),
  base_url: z.url({ protocol: /^https?$/ }),
  upstream_model: nonEmpty(),
  /** Name of the secret holding the key; omit for keyless upstreams (a local Ollama or vLLM). */
  api_key_secret: z.optional(nonEmpty()),
})

const anthropicModel = z.strictObject({
  ...everyModel,
  adapter: z.literal('anthropic'),
  base_url: z._default(z.url({ protocol: /^https?$/ }), 'https://api.anthropic.com/v1'),
  upstream_model: nonEmpty(),
  api_key_secret: nonEmpty(),
  /** Anthropic requires a limit on every request; this applies when the client sets none. */
  max_tokens: z._default(wholeNumber(1), 4096),
})

const geminiModel = z.strictObject({
  ...everyModel,
  adapter: z.literal('gemini'),
  base_url: z._default(z.url({ protocol: /^https?$/ }), 'https://generativelanguage.googleapis.com/v1beta'),
  upstream_model: nonEmpty(),
  api_key_secret: nonEmpty(),
})

const workersAIModel = z.strictObject({
  ...everyModel,
  adapter: z.literal('workers-ai'),
  upstream_model: nonEmpty(),
  /** The name of the AI binding in wrangler.toml (`[ai] binding = "AI"`). */
  binding: z._default(nonEmpty(), 'AI'),
})

const modelConfig = z.discriminatedUnion('adapter', [
  demoModel,
  openAIModel,
  anthropicModel,
  geminiModel,
  workersAIModel,
])

export type DemoModelConfig = z.infer<typeof demoModel>
export type OpenAIModelConfig = z.infer<typeof openAIModel>
export type AnthropicModelConfig = z.infer<typeof anthropicModel>
export type GeminiModelConfig = z.infer<typeof geminiModel>
export type WorkersAIModelConfig = z.infer<typeof workersAIModel>
export type ModelConfig = z.infer<typeof modelConfig>

/** A whole number of milliseconds or a count, given as a string var (the way wrangler passes vars). */
const count = (fallback: number, min = 1) =>
  z._default(z.pipe(z.string(), z.pipe(z.transform(Number), wholeNumber(min))), fallback)

const settings = z.object({
  DEFAULT_MODEL: z._default(z.string(), 'demo'),
  MODELS: z.pipe(z.transform(parseJsonString), z.record(nonEmpty(), modelConfig)),
  HEARTBEAT_MS: count(15_000),
  RETRY_MS: count(3_000, 0),
  UPSTREAM_HEADERS_TIMEOUT_MS: count(120_000),
  UPSTREAM_IDLE_TIMEOUT_MS: count(600_000),
  STREAM_DEADLINE_MS: count(1_800_000),
  MAX_BODY_BYTES: count(256 * 1024),
  MAX_MESSAGES: count(100),
  MAX_MESSAGE_CHARS: count(32 * 1024),
  CORS_ALLOWED_ORIGINS: z._default(z.pipe(z.string(), z.transform(parseOrigins)), []),
})

/** "*" (any origin, only when chosen explicitly), or a comma-separated list of exact origins. */
function parseOrigins(value: string, ctx: TransformContext): '*' | string[] {
  if (value.trim() === '*') return '*'
  const origins = value.split(/[\s,]+/).filter(Boolean)
  for (const origin of origins) {
    let parsed: URL | undefined
    try {
      parsed = new URL(origin)
    } catch {
      // reported below
    }
    if (parsed?.origin !== origin) {
      ctx.issues.push({
        code: 'custom',
        message: `"${origin}" is not an origin like https://example.com`,
        input: value,
      })
    }
  }
  return origins
}

/** `wrangler dev --var MODELS:'{...}'` passes a string where wrangler.toml gives an object. */
function parseJsonString(value: unknown, ctx: TransformContext): unknown {
  if (typeof value !== 'string') return value
  try {
    return JSON.parse(value)
  } catch {
    ctx.issues.push({ code: 'custom', message: 'is a string but not valid JSON', input: value })
    return z.NEVER
  }
}

type TransformContext = z.core.ParsePayload<unknown>

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
  /** Other origins whose pages may call the API; the Worker's own origin needs no entry. */
  corsAllowedOrigins: '*' | string[]
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
  const result = settings.safeParse(env)
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)
    return invalid(problems)
  }
  const s = result.data
  const problems: string[] = []
  if (!Object.hasOwn(s.MODELS, s.DEFAULT_MODEL))
    problems.push(`DEFAULT_MODEL: "${s.DEFAULT_MODEL}" is not one of MODELS`)
  for (const [name, model] of Object.entries(s.MODELS)) {
    for (const fallback of model.fallbacks) {
      if (!Object.hasOwn(s.MODELS, fallback))
        problems.push(`MODELS.${name}.fallbacks: "${fallback}" is not one of MODELS`)
      if (fallback === name) problems.push(`MODELS.${name}.fallbacks: a model cannot be its own fallback`)
    }
  }
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
    corsAllowedOrigins: s.CORS_ALLOWED_ORIGINS,
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
