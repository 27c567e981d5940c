import type { ModelPrice } from '../config/models'
import { streamedChars, type AnswerSummary } from '../events/answer-summary'

/** An answer's tokens as the ledger counts them. `completion` includes `reasoning`, as providers count it. */
export interface AnswerTokens {
  prompt: number
  completion: number
  reasoning: number
  /** The part of `prompt` read from the provider's prompt cache. */
  cacheRead: number
  /** The part of `prompt` written to the provider's prompt cache. */
  cacheWrite: number
  /** The upstream reported no usage: the gateway's estimate (about four characters a token). */
  estimated: boolean
}

/**
 * What an answer used: the upstream's count when it reported one, else an estimate from the
 * prompt (the same estimate admission reserved) and everything streamed, at about four
 * characters a token. Reasoning and tool calls are output the upstream bills, seen or not, so an
 * answer stopped while the model was thinking is charged its thinking, as reasoning tokens.
 *
 * The one estimate of an answer's tokens: the budget is charged `prompt + completion` of it and
 * the ledger records it (`endAnswer`), so the two agree on every answer.
 */
export function answerTokens(summary: AnswerSummary, estimatedPromptTokens: number): AnswerTokens {
  const usage = summary.usage
  if (usage) {
    // Parts of the prompt: never more than it, whatever an upstream says.
    const cacheRead = Math.min(usage.cache_read_tokens ?? 0, usage.prompt_tokens)
    return {
      prompt: usage.prompt_tokens,
      completion: usage.completion_tokens,
      reasoning: Math.min(usage.reasoning_tokens ?? 0, usage.completion_tokens),
      cacheRead,
      cacheWrite: Math.min(usage.cache_write_tokens ?? 0, usage.prompt_tokens - cacheRead),
      estimated: false,
    }
  }
  return {
    prompt: estimatedPromptTokens,
    completion: Math.ceil(streamedChars(summary) / CHARS_PER_TOKEN),
    reasoning: Math.ceil((summary.reasoningChars ?? 0) / CHARS_PER_TOKEN),
    cacheRead: 0,
    cacheWrite: 0,
    estimated: true,
  }
}

/** About four characters a token for English text: rough, and every record made with it says so. */
const CHARS_PER_TOKEN = 4

/**
 * The answer's cost in USD from the model's price per million tokens: the prompt at the input
 * price, but its parts read from and written to the provider's prompt cache at the cache prices
 * (each the input price when the model has none); the completion at the output price, its
 * reasoning part at the reasoning price when the model has one. A model without a price costs
 * nothing (a demo, a self-hosted model).
 */
export function costUsd(price: ModelPrice | undefined, tokens: AnswerTokens): number {
  if (!price) return 0
  const visible = tokens.completion - tokens.reasoning
  const uncached = tokens.prompt - tokens.cacheRead - tokens.cacheWrite
  const micro =
    uncached * price.input +
    tokens.cacheRead * (price.cache_read ?? price.input) +
    tokens.cacheWrite * (price.cache_write ?? price.input) +
    visible * price.output +
    tokens.reasoning * (price.reasoning ?? price.output)
  // Rounded to a millionth of a cent: sums of many records stay exact enough and print short.
  return Math.round(micro / 1e-2) / 1e8
}
