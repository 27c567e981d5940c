import { describe, expect, it } from 'vitest'
import { answerTokens, costUsd } from '../../src/usage/cost'

describe('an answer’s tokens', () => {
  it('are the upstream’s count when it reported one, reasoning within the completion', () => {
    const summary = {
      outcome: 'done',
      durationMs: 5,
      usage: { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42, reasoning_tokens: 20 },
    } as const
    expect(answerTokens(summary, 99)).toEqual({
      prompt: 12,
      completion: 30,
      reasoning: 20,
      cacheRead: 0,
      cacheWrite: 0,
      estimated: false,
    })
  })

  it('are estimated from the prompt estimate and the text sent when it reported none, and say so', () => {
    const summary = { outcome: 'cancelled', durationMs: 5, textChars: 41 } as const
    expect(answerTokens(summary, 99)).toMatchObject({
      prompt: 99,
      completion: 11,
      reasoning: 0,
      cacheRead: 0,
      estimated: true,
    })
  })

  it('are estimated from everything streamed, reasoning counted as reasoning, for an answer stopped mid-thought', () => {
    const summary = { outcome: 'cancelled', durationMs: 5, reasoningChars: 4001, toolCallChars: 40 } as const
    expect(answerTokens(summary, 99)).toMatchObject({ prompt: 99, completion: 1011, reasoning: 1001, estimated: true })
  })
})

describe('an answer’s cost', () => {
  const none = { cacheRead: 0, cacheWrite: 0 }
  const tokens = { prompt: 1_000_000, completion: 500_000, reasoning: 200_000, ...none, estimated: false }

  it('is input and output at their prices per million tokens, reasoning as output by default', () => {
    expect(costUsd({ input: 0.15, output: 0.6 }, tokens)).toBe(0.45)
  })

  it('charges reasoning at its own price when the model has one', () => {
    expect(costUsd({ input: 0.15, output: 0.6, reasoning: 1 }, tokens)).toBeCloseTo(0.15 + 0.3 * 0.6 + 0.2, 10)
  })

  it('prices the prompt cache’s reads and writes at their own prices, else at the input price', () => {
    // Anthropic's Sonnet: $3 input, $0.30 a cache read, $3.75 a cache write, $15 output.
    const price = { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 }
    const cached = { ...tokens, prompt: 1_000_000, reasoning: 0, cacheRead: 600_000, cacheWrite: 100_000 }
    expect(costUsd(price, cached)).toBeCloseTo(0.3 * 3 + 0.6 * 0.3 + 0.1 * 3.75 + 0.5 * 15, 10)
    expect(costUsd({ input: 3, output: 15 }, cached)).toBeCloseTo(3 + 7.5, 10)
  })

  it('counts the cached parts from the upstream’s usage, never more than the prompt', () => {
    const usage = { prompt_tokens: 100, completion_tokens: 5, total_tokens: 105, cache_read_tokens: 80 }
    const summary = { outcome: 'done', durationMs: 5 } as const
    expect(answerTokens({ ...summary, usage: { ...usage, cache_write_tokens: 15 } }, 1)).toMatchObject({
      cacheRead: 80,
      cacheWrite: 15,
    })
    expect(answerTokens({ ...summary, usage: { ...usage, cache_write_tokens: 500 } }, 1)).toMatchObject({
      cacheRead: 80,
      cacheWrite: 20,
    })
  })

  it('is nothing for a model without a price', () => {
    expect(costUsd(undefined, tokens)).toBe(0)
  })

  it('keeps a small answer’s cost (to a millionth of a cent)', () => {
    expect(
      costUsd({ input: 0.15, output: 0.6 }, { prompt: 7, completion: 3, reasoning: 0, ...none, estimated: false }),
    ).toBe(0.00000285)
  })
})
