import { env } from 'cloudflare:test'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { limitsOf, type Lease } from '../../src/access/leases'
import { loadConfig } from '../../src/config/load'
import type { AnswerSummary } from '../../src/events/answer-summary'
import { endAnswer, type AnswerEnd } from '../../src/usage/end-answer'
import type { UsageRecord } from '../../src/usage/record'
import { asEnv } from '../helpers/env'

/**
 * Where every answer ends: the budget is charged, and the ledger records, the same tokens, however
 * the answer ended (issue 29, finding 2: a stopped answer's reasoning was charged to the budget
 * and missing from the ledger).
 */
const MODELS = {
  mini: {
    adapter: 'openai',
    base_url: 'https://api.example.com/v1',
    upstream_model: 'mini',
    price: { input: 1, output: 4, reasoning: 8 },
  },
}

afterEach(() => vi.restoreAllMocks())

/** A lease held by a fresh principal's limits object, as admission takes it. */
async function admitted(): Promise<Lease> {
  const principal = { id: `key:${crypto.randomUUID()}`, kind: 'key' as const, name: 'alice' }
  const lease = {
    leaseId: crypto.randomUUID(),
    principal,
    model: 'mini',
    held: true,
    promptTokens: 40,
    reservedTokens: 0,
    expiresAt: Date.now() + 60_000,
  }
  const result = await limitsOf(env, principal.id).admit({
    leaseId: lease.leaseId,
    dailyTokens: 1_000_000,
    promptTokens: lease.promptTokens,
    ttlMs: 60_000,
  })
  expect(result.ok).toBe(true)
  return lease
}

/** Ends an answer; returns the ledger's record of it and what the budget was charged. */
async function end(
  summary: AnswerSummary,
  more: Partial<AnswerEnd> = {},
): Promise<{ record: UsageRecord; charged: number; estimated: number }> {
  vi.spyOn(console, 'log').mockImplementation(() => {})
  const sent: UsageRecord[] = []
  const USAGE_QUEUE = { send: async (record: UsageRecord) => void sent.push(record) } as unknown as Queue
  const environment = asEnv({ ...env, DEFAULT_MODEL: 'mini', MODELS, USAGE_QUEUE })
  const lease = await admitted()
  await endAnswer(environment, loadConfig(environment), lease, {
    route: '/api/chat',
    model: 'mini',
    upstream: 'mini',
    summary,
    ...more,
  })
  const usage = await limitsOf(env, lease.principal.id).usage()
  expect(sent).toHaveLength(1)
  return { record: sent[0]!, charged: usage.tokens, estimated: usage.estimatedTokens }
}

describe('endAnswer', () => {
  it('an answer stopped mid-reasoning: its reasoning is recorded as reasoning, and charged the same', async () => {
    const { record, charged } = await end({ outcome: 'cancelled', reasoningChars: 4000, durationMs: 50 })
    expect(record).toMatchObject({ promptTokens: 40, completionTokens: 1000, reasoningTokens: 1000, estimated: true })
    expect(record.costUsd).toBe((40 * 1 + 1000 * 8) / 1e6)
    expect(charged).toBe(record.promptTokens + record.completionTokens)
  })

  it('a failed answer: text, reasoning and tool calls all count, reasoning apart', async () => {
    const summary = {
      outcome: 'error',
      errorCode: 'upstream_error',
      textChars: 400,
      reasoningChars: 800,
      toolCallChars: 200,
      durationMs: 50,
    } as const
    const { record, charged, estimated } = await end(summary)
    expect(record).toMatchObject({ completionTokens: 350, reasoningTokens: 200, outcome: 'error' })
    expect(charged).toBe(record.promptTokens + record.completionTokens)
    expect(estimated).toBe(charged)
  })

  it('a finished answer with the upstream’s usage: its prompt and completion, whatever its total says', async () => {
    const usage = { prompt_tokens: 12, completion_tokens: 30, total_tokens: 99, reasoning_tokens: 20 }
    const { record, charged, estimated } = await end({ outcome: 'done', usage, textChars: 9, durationMs: 50 })
    expect(record).toMatchObject({ promptTokens: 12, completionTokens: 30, reasoningTokens: 20, estimated: false })
    expect(charged).toBe(42)
    expect(estimated).toBe(0)
  })

  it('a cache hit: nothing charged or used, and the cost of the answer it was served from as its saving', async () => {
    const usage = { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42 }
    const original = { outcome: 'done', usage, durationMs: 900 } as const
    const saved = { upstream: 'mini', summary: original, estimatedPromptTokens: 40 }
    const { record, charged } = await end({ outcome: 'done', durationMs: 5 }, { cache: 'HIT', saved })
    expect(record).toMatchObject({ cacheStatus: 'HIT', promptTokens: 0, completionTokens: 0, costUsd: 0 })
    expect(record.savedUsd).toBe((12 * 1 + 30 * 4) / 1e6)
    expect(charged).toBe(0)
  })
})
