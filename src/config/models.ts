import * as v from 'valibot'
import { httpUrl, nonEmpty, usdPerMillion, wholeNumber } from './parts'

/**
 * The models the gateway serves (`MODELS` in wrangler.toml): one schema per provider family, and
 * what every model has whatever serves it. Validated with the rest of the config (`./load.ts`).
 */

/** Settings every model has, whatever serves it. */
const everyModel = {
  /**
   * Models to try, in order, when this one fails before answering (unreachable, 429, 5xx, header
   * timeout). Never once text has been sent (two answers must not be spliced together), except
   * to continue the same answer (`continue_on_failure`).
   */
  fallbacks: v.optional(v.array(nonEmpty()), () => []),
  /**
   * When the upstream dies after the answer has begun (a reset, a cut-off or garbled stream, an
   * idle timeout), ask again, this model then its fallbacks, to continue from where it stopped,
   * and stream the rest into the same answer (at most twice; `pipeline/continuation.ts`). Off:
   * the answer ends with an `error` event.
   */
  continue_on_failure: v.optional(v.boolean(), false),
  /** Whether the model reads images; `false` refuses a request holding one with a 400 naming it. */
  vision: v.optional(v.boolean(), true),
  /** The most `max_tokens` a caller may ask of this model; larger requests are lowered to it. */
  max_tokens_ceiling: v.optional(wholeNumber(1)),
  /**
   * What the model costs, in USD per million tokens, for the usage ledger (`docs/usage.md`).
   * Reasoning is charged as output unless it has a price of its own; input read from the
   * provider's prompt cache at `cache_read`, input written to it at `cache_write`, each the
   * input price unless set. Unset: costs nothing.
   */
  price: v.optional(
    v.strictObject({
      input: usdPerMillion(),
      output: usdPerMillion(),
      reasoning: v.optional(usdPerMillion()),
      cache_read: v.optional(usdPerMillion()),
      cache_write: v.optional(usdPerMillion()),
    }),
  ),
  /**
   * Extra attempts at this model, after a failure that can succeed on retry (unreachable, header
   * timeout, 408, 409, 429, 5xx, a stream that ends before its first event), before its fallbacks.
   */
  retries: v.optional(v.pipe(wholeNumber(), v.maxValue(10)), 2),
  /**
   * The longest an upstream's `Retry-After` is waited for before a retry; one that asks for
   * longer sends the request straight to the fallbacks.
   */
  max_retry_after_ms: v.optional(v.pipe(wholeNumber(), v.maxValue(60_000)), 5_000),
  /**
   * After `failures` consecutive failures the model is skipped (straight to its fallbacks) for
   * `cooldown_ms`; then one trial request decides whether it serves again.
   */
  circuit_breaker: v.optional(
    v.strictObject({
      failures: v.optional(wholeNumber(1), 3),
      cooldown_ms: v.optional(v.pipe(wholeNumber(1), v.maxValue(3_600_000)), 30_000),
    }),
    () => ({ failures: 3, cooldown_ms: 30_000 }),
  ),
  /**
   * How long a complete answer is kept to answer identical requests again (`docs/cache.md`), in
   * seconds from its end. Unset or 0: no cache, and the model's answers stream straight through.
   */
  cache_ttl_s: v.optional(wholeNumber(), 0),
  /**
   * Whose identical requests share a cached answer: each principal's only (the default; one key's
   * answers are never served to another), or everyone allowed to use the model (`shared`).
   */
  cache_scope: v.optional(v.picklist(['principal', 'shared']), 'principal'),
}

/** `key_rest_ms` unless set: a minute, the window most providers count their rate limits in. */
const DEFAULT_KEY_REST_MS = 60_000

/**
 * An API key, or a pool of them: requests spread across `api_key_secrets`, and a key the
 * upstream answered 429 rests (its `Retry-After`, else `key_rest_ms`) while the others serve.
 */
const apiKeys = {
  /** Names of secrets holding keys for the same account or others; used beside `api_key_secret`. */
  api_key_secrets: v.optional(v.pipe(v.array(nonEmpty()), v.minLength(1))),
  /** How long a key rests after a 429 that gave no `Retry-After`. */
  key_rest_ms: v.optional(v.pipe(wholeNumber(1), v.maxValue(3_600_000)), DEFAULT_KEY_REST_MS),
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
  /**
   * Which of OpenAI's APIs the upstream is spoken to through: Chat Completions
   * (`{base_url}/chat/completions`, what every compatible server has) or Responses
   * (`{base_url}/responses`, OpenAI's own, where its hosted tools and newest models are). A caller
   * of the same API gets its body passed through (docs/configuration.md).
   */
  api: v.optional(v.picklist(['chat', 'responses']), 'chat'),
  /** Name of the secret holding the key; omit for keyless upstreams (a local Ollama or vLLM). */
  api_key_secret: v.optional(nonEmpty()),
  ...apiKeys,
})

const anthropicModel = v.strictObject({
  ...everyModel,
  adapter: v.literal('anthropic'),
  base_url: v.optional(httpUrl(), 'https://api.anthropic.com/v1'),
  upstream_model: nonEmpty(),
  /** Name of the secret holding the key (or only `api_key_secrets`, a pool). */
  api_key_secret: v.optional(nonEmpty()),
  ...apiKeys,
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
  /** Name of the secret holding the key (or only `api_key_secrets`, a pool). */
  api_key_secret: v.optional(nonEmpty()),
  ...apiKeys,
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

export const modelConfig = v.variant('adapter', [demoModel, openAIModel, anthropicModel, geminiModel, workersAIModel])

export type DemoModelConfig = v.InferOutput<typeof demoModel>
export type OpenAIModelConfig = v.InferOutput<typeof openAIModel>
export type AnthropicModelConfig = v.InferOutput<typeof anthropicModel>
export type GeminiModelConfig = v.InferOutput<typeof geminiModel>
export type WorkersAIModelConfig = v.InferOutput<typeof workersAIModel>
export type ModelConfig = v.InferOutput<typeof modelConfig>
export type ModelPrice = NonNullable<ModelConfig['price']>

/** The request's `max_tokens`, lowered to the model's ceiling; the ceiling itself when the request sets none. */
export function withinCeiling(maxTokens: number | undefined, model: ModelConfig): number | undefined {
  const ceiling = model.max_tokens_ceiling
  if (ceiling === undefined) return maxTokens
  return Math.min(maxTokens ?? ceiling, ceiling)
}

/** The names of the secrets a model's requests may use, in order: `api_key_secret`, then the pool. */
export function keySecretsOf(model: ModelConfig): string[] {
  if (!('api_key_secret' in model) && !('api_key_secrets' in model)) return []
  const names = [...(model.api_key_secret ? [model.api_key_secret] : []), ...(model.api_key_secrets ?? [])]
  return [...new Set(names)]
}

/** How long one of the model's keys rests after a 429 without `Retry-After`. */
export function keyRestMsOf(model: ModelConfig): number {
  return 'key_rest_ms' in model ? model.key_rest_ms : DEFAULT_KEY_REST_MS
}
