import { env } from 'cloudflare:test'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { loadConfig } from '../../src/config/load'
import { idTag } from '../../src/log'
import { recordAnswer } from '../../src/usage/ledger'
import type { EndedAnswer } from '../../src/usage/record'
import { asEnv } from '../helpers/env'

/** Where every answer ends: the log line, the queue message, the Analytics Engine data point. */
const MODELS = {
  mini: {
    adapter: 'openai',
    base_url: 'https://api.example.com/v1',
    upstream_model: 'mini',
    price: { input: 1, output: 4 },
  },
}

const answer: EndedAnswer = {
  route: '/v1/chat/completions',
  principal: { kind: 'key', name: 'alice' },
  model: 'mini',
  upstream: 'mini',
  summary: {
    outcome: 'done',
    finishReason: 'stop',
    usage: { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150, reasoning_tokens: 10 },
    firstTextMs: 42,
    durationMs: 900,
  },
  estimatedPromptTokens: 80,
}

afterEach(() => vi.restoreAllMocks())

describe('recordAnswer', () => {
  it('logs the answer in OpenTelemetry’s GenAI names, with its cost', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    const environment = asEnv({ ...env, DEFAULT_MODEL: 'mini', MODELS, USAGE_QUEUE: undefined })
    await recordAnswer(environment, loadConfig(environment), answer)
    const line = JSON.parse(log.mock.calls.map((call) => String(call[0])).find((l) => l.includes('answer ended'))!)
    expect(line).toEqual({
      level: 'info',
      msg: 'answer ended',
      path: '/v1/chat/completions',
      status: 200,
      principal: 'alice',
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'mini',
      'gen_ai.response.model': 'mini',
      attempts: 1,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 100,
      'gen_ai.usage.output_tokens': 50,
      'gen_ai.usage.reasoning.output_tokens': 10,
      outcome: 'done',
      partial: false,
      estimated: false,
      costUsd: 0.0003, // (100 × 1 + 50 × 4) per million
      firstTextMs: 42,
      durationMs: 900,
    })
  })

  it('writes the record to Analytics Engine beside the ledger when USAGE_ANALYTICS is bound', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {})
    const points: AnalyticsEngineDataPoint[] = []
    // The dataset as the Worker sees it: write-only, nothing to read back locally.
    const USAGE_ANALYTICS = { writeDataPoint: (point: AnalyticsEngineDataPoint) => points.push(point) }
    const environment = asEnv({ ...env, DEFAULT_MODEL: 'mini', MODELS, USAGE_ANALYTICS })
    await recordAnswer(environment, loadConfig(environment), { ...answer, streamId: 'stream-1' })
    expect(points).toEqual([
      {
        indexes: ['key:alice'],
        // The stream's tag, never its id.
        blobs: ['/v1/chat/completions', 'key', 'alice', 'mini', 'mini', 'done', '', idTag('stream-1')],
        doubles: [100, 50, 10, 0.0003, 42, 900, 0, 200],
      },
    ])
  })

  it('never throws, and logs, when the queue refuses the record', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {})
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    // A queue past its throughput limit: send() rejects, as Cloudflare documents.
    const USAGE_QUEUE = { send: () => Promise.reject(new Error('Too Many Requests')) } as unknown as Queue
    const environment = asEnv({ ...env, DEFAULT_MODEL: 'mini', MODELS, USAGE_QUEUE })
    await expect(recordAnswer(environment, loadConfig(environment), answer)).resolves.toBeUndefined()
    expect(error.mock.calls.map((call) => String(call[0])).join('\n')).toMatch(
      /"msg":"usage record not sent to the ledger".*Too Many Requests/,
    )
  })
})
