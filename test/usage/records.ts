import type { UsageRecord } from '../../src/usage/record'

/** A ledger record for tests: a finished answer with usage, changed by `overrides`. */
export function record(overrides: Partial<UsageRecord> = {}): UsageRecord {
  return {
    id: crypto.randomUUID(),
    ts: Date.parse('2026-11-20T10:00:00Z'),
    route: '/api/chat',
    status: 200,
    principalKind: 'key',
    principal: 'alice',
    model: 'mini',
    upstream: 'mini',
    outcome: 'done',
    finishReason: 'stop',
    errorCode: null,
    promptTokens: 10,
    completionTokens: 20,
    reasoningTokens: 0,
    estimated: false,
    costUsd: 0.001,
    ttftMs: 100,
    durationMs: 900,
    streamId: null,
    cacheStatus: null,
    savedUsd: 0,
    ...overrides,
  }
}
