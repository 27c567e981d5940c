import { describe, expect, it } from 'vitest'
import { answerTokens, costUsd } from '../../src/usage/cost'

describe('an answer’s tokens', () => {
  it('are the upstream’s count when it reported one, reasoning within the completion', () => {
    const summary = {
      outcome: 'done',
      durationMs: 5,
      usage: { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42, reasoning_tokens: 20 },
    } as const
    expect(answerTokens(summary, 99)).toEqual({ prompt: 12, completion: 30, reasoning: 20, estimated: false })
  })

  it('are estimated from the prompt estimate and the text sent when it reported none, and say so', () => {
    const summary = { outcome: 'cancelled', durationMs: 5, textChars: 41 } as const
    expect(answerTokens(summary, 99)).toEqual({ prompt: 99, completion: 11, reasoning: 0, estimated: true })
  })

  it('are estimated from everything streamed, reasoning counted as reasoning, for an answer stopped mid-thought', () => {
    const summary = { outcome: 'cancelled', durationMs: 5, reasoningChars: 4001, toolCallChars: 40 } as const
    expect(answerTokens(summary, 99)).toEqual({ prompt: 99, completion: 1011, reasoning: 1001, estimated: true })
  })
})

describe('an answer’s cost', () => {
  const tokens = { prompt: 1_000_000, completion: 500_000, reasoning: 200_000, estimated: false }

  it('is input and output at their prices per million tokens, reasoning as output by default', () => {
    expect(costUsd({ input: 0.15, output: 0.6 }, tokens)).toBe(0.45)
  })

  it('charges reasoning at its own price when the model has one', () => {
    expect(costUsd({ input: 0.15, output: 0.6, reasoning: 1 }, tokens)).toBeCloseTo(0.15 + 0.3 * 0.6 + 0.2, 10)
  })

  it('is nothing for a model without a price', () => {
    expect(costUsd(undefined, tokens)).toBe(0)
  })

  it('keeps a small answer’s cost (to a millionth of a cent)', () => {
    expect(costUsd({ input: 0.15, output: 0.6 }, { prompt: 7, completion: 3, reasoning: 0, estimated: false })).toBe(
      0.00000285,
    )
  })
})
