import type { ReasoningEffort } from '../request/chat-request'

/**
 * OpenAI's `reasoning_effort` (`reasoning.effort` on the Responses API) for providers that set
 * how hard a model thinks by a token budget instead. One table, so docs/openai-compatible.md can
 * print it as it is; a request's effort overrides the model's configured budget.
 *
 * | effort  | Anthropic `thinking.budget_tokens` | Gemini `thinkingConfig.thinkingBudget` |
 * | ------- | ---------------------------------- | -------------------------------------- |
 * | none    | thinking off                       | 0 (off, where the model allows it)     |
 * | minimal | 1024 (Anthropic's least)           | 512                                    |
 * | low     | 2048                               | 2048                                   |
 * | medium  | 8192                               | 8192                                   |
 * | high    | 16384                              | 16384                                  |
 * | xhigh   | 32768                              | 32768                                  |
 *
 * OpenAI-compatible upstreams get the effort itself; Workers AI and the demo model ignore it.
 */
export const THINKING_BUDGETS: Record<ReasoningEffort, number> = {
  none: 0,
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 16384,
  xhigh: 32768,
}

/** Anthropic needs at least this much budget for thinking to be on at all. */
export const ANTHROPIC_MIN_BUDGET = 1024

/**
 * Anthropic's thinking budget for a request: its effort's, within `max_tokens` (which the budget
 * counts against); else the model's configured one. 0 means thinking off.
 */
export function anthropicThinkingBudget(
  effort: ReasoningEffort | undefined,
  configured: number | undefined,
  maxTokens: number,
): number | undefined {
  if (effort === undefined) return configured
  const budget = Math.min(THINKING_BUDGETS[effort], maxTokens - 1)
  return budget >= ANTHROPIC_MIN_BUDGET ? budget : 0
}
