import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { EventSourceMessage } from 'eventsource-parser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { readStream, type StreamReading } from './sse-client'
import { TestUpstream } from './upstream-server'
import { applyLedgerMigrations, startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * Issue 29, finding 2: the budget charged an answer stopped while the model was thinking by
 * everything it streamed, and the ledger recorded it by its text only (0 completion tokens). Now
 * one function ends every answer from one estimate, so under `wrangler dev` (local queue, D1 and
 * limits objects) the ledger's tokens for an answer that streamed only reasoning match the
 * budget's, and are reasoning tokens: when its client leaves `/api/chat`, when a background
 * response is cancelled, and when a restart cuts a stored answer. Each answer is a key of its own,
 * so `/api/usage` with that key shows its ledger row (`days`) beside its budget (`used_today`).
 */
const PRICE = { input: 1, output: 2, reasoning: 4 }
const keys = { chat: generateApiKey(), background: generateApiKey(), restart: generateApiKey() }
/** Reasoning the client sees before it stops the answer: about 2,000 tokens. */
const SEEN_CHARS = 8000

let upstream: TestUpstream
let upstreamUrl: string
let persistTo: string
let gateway: WranglerDev

const vars = async () => {
  const apiKeys: Record<string, object> = {}
  for (const [name, key] of Object.entries(keys)) {
    apiKeys[name] = { sha256: await hashApiKey(key), models: ['*'], daily_tokens: 10_000_000 }
  }
  return {
    DEFAULT_MODEL: 'upstream',
    MODELS: JSON.stringify({
      upstream: { adapter: 'openai', base_url: upstreamUrl, upstream_model: 'test-model', price: PRICE },
    }),
    API_KEYS: JSON.stringify(apiKeys),
    // Stored events are durable within 100 ms, so a restart finds what the reader saw.
    STREAM_FLUSH_MS: '100',
  }
}

beforeAll(async () => {
  upstream = new TestUpstream()
  upstreamUrl = await upstream.start()
  persistTo = mkdtempSync(join(tmpdir(), 'gateway-ledger-'))
  await applyLedgerMigrations(persistTo)
  gateway = await startWranglerDev(await vars(), {}, { persistTo })
}, 120_000)

afterAll(async () => {
  await gateway?.stop()
  await upstream?.stop()
  if (persistTo) rmSync(persistTo, { recursive: true, force: true })
})

const bearer = (key: string) => ({ Authorization: `Bearer ${key}` })

const post = (path: string, key: string, body: object) =>
  fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...bearer(key) },
    body: JSON.stringify(body),
  })

/** Reads until at least `chars` of reasoning have come, by the length of each event's reasoning. */
async function readReasoning(
  stream: StreamReading,
  reasoningOf: (event: EventSourceMessage) => string | undefined,
  chars = SEEN_CHARS,
): Promise<number> {
  let seen = 0
  while (seen < chars) {
    const event = await stream.nextEvent()
    if (!event) throw new Error(`the stream ended after ${seen} characters of reasoning`)
    expect(event.event).not.toBe('error')
    seen += reasoningOf(event)?.length ?? 0
  }
  return seen
}

const gatewayReasoning = (event: EventSourceMessage) =>
  event.event === 'reasoning' ? (JSON.parse(event.data) as { text: string }).text : undefined

interface Day {
  requests: number
  prompt_tokens: number
  completion_tokens: number
  reasoning_tokens: number
  cost_usd: number
}

/** The key's one ledger row and its budget's tokens used, once both have the answer. */
async function ledgerAndBudget(key: string): Promise<{ ledger: Day; budgetUsed: number }> {
  let found: { ledger: Day; budgetUsed: number } | undefined
  // The local queue hands its consumer a batch within max_batch_timeout (5 s).
  await expect
    .poll(
      async () => {
        const response = await fetch(`${gateway.url}/api/usage?days=1`, { headers: bearer(key) })
        const body = (await response.json()) as { budget: { used_today: number }; days: Day[] }
        const ledger = body.days[0]
        if (ledger && body.budget.used_today > 0) found = { ledger, budgetUsed: body.budget.used_today }
        return ledger?.requests ?? 0
      },
      { timeout: 30_000, interval: 500 },
    )
    .toBe(1)
  await expect.poll(() => found !== undefined, { timeout: 10_000 }).toBe(true)
  return found!
}

/**
 * What a user of the ledger notices: the tokens it records are what the budget charged (within
 * 5 %), at least what the client saw, and nearly all of them reasoning, priced as reasoning.
 */
function expectAgreement({ ledger, budgetUsed }: { ledger: Day; budgetUsed: number }, seenChars: number) {
  const recorded = ledger.prompt_tokens + ledger.completion_tokens
  expect(Math.abs(recorded - budgetUsed)).toBeLessThanOrEqual(budgetUsed * 0.05)
  expect(ledger.completion_tokens).toBeGreaterThanOrEqual(seenChars / 4)
  expect(ledger.reasoning_tokens).toBeGreaterThanOrEqual(ledger.completion_tokens * 0.95)
  const cost =
    (ledger.prompt_tokens * PRICE.input +
      (ledger.completion_tokens - ledger.reasoning_tokens) * PRICE.output +
      ledger.reasoning_tokens * PRICE.reasoning) /
    1e6
  expect(ledger.cost_usd).toBeCloseTo(cost, 7)
}

describe('the ledger and the budget agree on an answer that streamed only reasoning', () => {
  it('/api/chat, its client gone mid-reasoning', async () => {
    const response = await post('/api/chat', keys.chat, { messages: [{ role: 'user', content: 'thinking' }] })
    expect(response.status).toBe(200)
    const stream = readStream(response)
    const seen = await readReasoning(stream, gatewayReasoning)
    await stream.cancel()
    expectAgreement(await ledgerAndBudget(keys.chat), seen)
  }, 60_000)

  it('a background response, cancelled', async () => {
    const response = await post('/v1/responses', keys.background, {
      model: 'upstream',
      input: 'thinking',
      background: true,
      stream: true,
    })
    expect(response.status).toBe(200)
    const stream = readStream(response)
    const seen = await readReasoning(stream, (event) =>
      event.event === 'response.reasoning_text.delta' ? (JSON.parse(event.data) as { delta: string }).delta : undefined,
    )
    const created = stream.events.find((event) => event.event === 'response.created')!
    const { id } = (JSON.parse(created.data) as { response: { id: string } }).response
    const cancelled = await post(`/v1/responses/${id}/cancel`, keys.background, {})
    expect(((await cancelled.json()) as { status: string }).status).toBe('cancelled')
    await stream.rest()
    expectAgreement(await ledgerAndBudget(keys.background), seen)
  }, 60_000)

  it('a stored answer cut by a restart of wrangler dev (interrupted)', async () => {
    const created = await post('/api/streams', keys.restart, { messages: [{ role: 'user', content: 'thinking' }] })
    expect(created.status).toBe(201)
    const { url } = (await created.json()) as { url: string }
    const read = () => fetch(url.replace(/^https?:\/\/[^/]+/, gateway.url), { headers: bearer(keys.restart) })
    const stream = readStream(await read())
    const seen = await readReasoning(stream, gatewayReasoning)
    // Past the flush window, so the log holds what the reader saw when the crash comes.
    await new Promise((resolve) => setTimeout(resolve, 1000))

    await gateway.kill()
    await stream.rest().catch(() => {})
    gateway = await startWranglerDev(await vars(), {}, { persistTo })

    // The next reader wakes the answer's object, which finds it cut and ends it.
    const events = await readStream(await read()).rest()
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({ code: 'interrupted' })
    expectAgreement(await ledgerAndBudget(keys.restart), seen)
  }, 120_000)
})
