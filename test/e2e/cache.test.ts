import { createParser } from 'eventsource-parser'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { readStream } from './sse-client'
import { TestUpstream, type RecordedRequest } from './upstream-server'
import { applyLedgerMigrations, startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * The response cache (docs/cache.md) under `wrangler dev`, against a loopback upstream that
 * records every request it is sent: a hit on every surface makes no upstream call and streams
 * the same text; scopes keep one key's answers from another unless shared; identical requests at
 * once make one upstream call; failed answers are never served; `Cache-Control` is obeyed; the
 * ledger has the hit at $0 with what it saved; an answer past its time to live is asked again.
 */
// USD per million tokens; the upstream reports 5 prompt and 3 completion tokens per answer.
const PRICE = { input: 1000, output: 2000 }
const ORIGINAL_COST = (5 * 1000 + 3 * 2000) / 1e6
const alice = generateApiKey()
const bob = generateApiKey()
const ops = generateApiKey()

let upstream: TestUpstream
let gateway: WranglerDev

beforeAll(async () => {
  upstream = new TestUpstream()
  const upstreamUrl = await upstream.start()
  const persistTo = mkdtempSync(join(tmpdir(), 'gateway-cache-'))
  await applyLedgerMigrations(persistTo)
  const model = { adapter: 'openai', base_url: upstreamUrl, upstream_model: 'test-model', price: PRICE }
  gateway = await startWranglerDev(
    {
      DEFAULT_MODEL: 'cached',
      CORS_ALLOWED_ORIGINS: '*',
      MODELS: JSON.stringify({
        cached: { ...model, cache_ttl_s: 600 },
        shared: { ...model, cache_ttl_s: 600, cache_scope: 'shared' },
        brief: { ...model, cache_ttl_s: 1 },
        plain: model,
      }),
      API_KEYS: JSON.stringify({
        alice: { sha256: await hashApiKey(alice), models: ['*'] },
        bob: { sha256: await hashApiKey(bob), models: ['*'] },
        ops: { sha256: await hashApiKey(ops), models: ['*'], admin: true },
      }),
    },
    {},
    { persistTo },
  )
}, 180_000)

afterAll(async () => {
  await gateway?.stop()
  await upstream?.stop()
})

let asked = 0
/** A prompt no other test sends, so each test has cache keys of its own. */
const fresh = (scenario = 'hello') => `${scenario}:${++asked}-${Math.random().toString(36).slice(2)}`

/** How many requests the upstream was sent whose last user message is `prompt`. */
const upstreamCalls = (prompt: string) => upstream.requests.filter((request) => lastUser(request) === prompt).length

function lastUser({ body }: RecordedRequest): string {
  const content = body.messages.findLast((m) => m.role === 'user')?.content ?? ''
  return typeof content === 'string' ? content : content.map((part) => (part.type === 'text' ? part.text : '')).join('')
}

function post(path: string, body: object, key = alice, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}`, ...headers },
    body: JSON.stringify(body),
  })
}

/** What a piece of answer looks like in each format: the fields that carry text. */
interface StreamedPiece {
  text?: string
  object?: string
  choices?: Array<{ delta?: { content?: string } }>
  type?: string
  delta?: string | { type: string; text: string }
}

/** The answer's text from a stream in any of the gateway's formats. */
function streamedText(body: string): string {
  let text = ''
  const parser = createParser({
    onEvent({ event, data }) {
      if (data === '[DONE]') return
      const json = JSON.parse(data) as StreamedPiece
      const { delta } = json
      if (event === 'delta') text += json.text
      else if (json.object === 'chat.completion.chunk') text += json.choices?.[0]?.delta?.content ?? ''
      else if (typeof delta === 'object' && delta.type === 'text_delta') text += delta.text
      else if (json.type === 'response.output_text.delta' || json.type === 'text-delta') text += delta as string
    },
  })
  parser.feed(body)
  return text
}

/** Each surface: a request for `prompt`, and how to read the answer's text from its response. */
const SURFACES: Record<string, { ask: (prompt: string) => Promise<Response>; text: (r: Response) => Promise<string> }> =
  {
    '/api/chat': {
      ask: (prompt) => post('/api/chat', { messages: [{ role: 'user', content: prompt }] }),
      text: async (r) => streamedText(await r.text()),
    },
    '/v1/chat/completions': {
      ask: (prompt) =>
        post('/v1/chat/completions', { model: 'cached', stream: true, messages: [{ role: 'user', content: prompt }] }),
      text: async (r) => streamedText(await r.text()),
    },
    '/v1/chat/completions, stream: false': {
      ask: (prompt) => post('/v1/chat/completions', { model: 'cached', messages: [{ role: 'user', content: prompt }] }),
      text: async (r) =>
        ((await r.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content,
    },
    '/v1/messages': {
      ask: (prompt) =>
        post('/v1/messages', {
          model: 'cached',
          max_tokens: 100,
          stream: true,
          messages: [{ role: 'user', content: prompt }],
        }),
      text: async (r) => streamedText(await r.text()),
    },
    '/v1/messages, stream: false': {
      ask: (prompt) =>
        post('/v1/messages', { model: 'cached', max_tokens: 100, messages: [{ role: 'user', content: prompt }] }),
      text: async (r) => ((await r.json()) as { content: Array<{ text: string }> }).content[0]!.text,
    },
    '/v1/responses': {
      ask: (prompt) => post('/v1/responses', { model: 'cached', input: prompt, store: false, stream: true }),
      text: async (r) => streamedText(await r.text()),
    },
    '/v1/responses, stream: false': {
      ask: (prompt) => post('/v1/responses', { model: 'cached', input: prompt, store: false }),
      text: async (r) =>
        ((await r.json()) as { output: Array<{ content: Array<{ text: string }> }> }).output[0]!.content[0]!.text,
    },
    '/api/ui/chat': {
      ask: (prompt) =>
        post('/api/ui/chat', {
          id: `chat-${prompt}`,
          messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: prompt }] }],
        }),
      text: async (r) => streamedText(await r.text()),
    },
  }

describe('a hit', () => {
  for (const [surface, { ask, text }] of Object.entries(SURFACES)) {
    it(`on ${surface}: the second identical request makes no upstream call and gets the same text`, async () => {
      const prompt = fresh()
      const first = await ask(prompt)
      expect(first.status).toBe(200)
      expect(first.headers.get('X-Gateway-Cache')).toBe('MISS')
      expect(await text(first)).toBe(`echo: ${prompt}`)
      const second = await ask(prompt)
      expect(second.status).toBe(200)
      expect(second.headers.get('X-Gateway-Cache')).toBe('HIT')
      expect(await text(second)).toBe(`echo: ${prompt}`)
      expect(upstreamCalls(prompt)).toBe(1)
    })
  }

  it('is never served to another key, unless the model shares its cache', async () => {
    const prompt = fresh()
    const ask = (model: string, key: string) =>
      post('/api/chat', { model, messages: [{ role: 'user', content: prompt }] }, key)
    for (const model of ['cached', 'shared']) {
      const mine = await ask(model, alice)
      expect(mine.headers.get('X-Gateway-Cache')).toBe('MISS')
      await mine.text()
    }
    const theirs = await ask('cached', bob)
    expect(theirs.headers.get('X-Gateway-Cache')).toBe('MISS')
    expect(streamedText(await theirs.text())).toBe(`echo: ${prompt}`)
    const shared = await ask('shared', bob)
    expect(shared.headers.get('X-Gateway-Cache')).toBe('HIT')
    expect(streamedText(await shared.text())).toBe(`echo: ${prompt}`)
    // alice on both models, bob on the unshared one.
    expect(upstreamCalls(prompt)).toBe(3)
  })

  it('is not what a model without a cache does: no header, every request asks the upstream', async () => {
    const prompt = fresh()
    for (let i = 0; i < 2; i++) {
      const response = await post('/api/chat', { model: 'plain', messages: [{ role: 'user', content: prompt }] })
      expect(response.headers.get('X-Gateway-Cache')).toBeNull()
      await response.text()
    }
    expect(upstreamCalls(prompt)).toBe(2)
  })
})

describe('single flight', () => {
  it('five identical requests at once make one upstream call, and all five get the whole answer live', async () => {
    const prompt = fresh('gated')
    const ask = () => post('/api/chat', { messages: [{ role: 'user', content: prompt }] })
    const responses = await Promise.all(Array.from({ length: 5 }, ask))
    expect(responses.map((r) => r.headers.get('X-Gateway-Cache')).sort()).toEqual([
      'JOINED',
      'JOINED',
      'JOINED',
      'JOINED',
      'MISS',
    ])
    const readers = responses.map(readStream)
    // Live: each has the first token while the upstream still holds back the rest.
    for (const reader of readers) {
      expect(JSON.parse((await reader.nextEvent((e) => e.event === 'delta'))!.data)).toEqual({ text: 'First' })
    }
    expect(upstreamCalls(prompt)).toBe(1)
    upstream.releaseGate()
    for (const reader of readers) {
      const events = await reader.rest()
      expect(events.at(-1)!.event).toBe('done')
      const text = events.filter((e) => e.event === 'delta').map((e) => (JSON.parse(e.data) as { text: string }).text)
      expect(text.join('')).toBe('First and the rest.')
    }
    expect(upstreamCalls(prompt)).toBe(1)
  })

  it('goes on for the others when the first caller leaves', async () => {
    const prompt = fresh('gated')
    const ask = () => post('/api/chat', { messages: [{ role: 'user', content: prompt }] })
    const first = readStream(await ask())
    await first.nextEvent((e) => e.event === 'delta')
    const second = await ask()
    expect(second.headers.get('X-Gateway-Cache')).toBe('JOINED')
    await first.cancel()
    upstream.releaseGate()
    expect(streamedText(await second.text())).toBe('First and the rest.')
    expect(upstreamCalls(prompt)).toBe(1)
  })
})

describe('what is never served', () => {
  it('a failed answer: the next identical request asks the upstream again', async () => {
    const prompt = fresh('reset')
    const ask = () => post('/api/chat', { messages: [{ role: 'user', content: prompt }] })
    const failed = await ask()
    expect(failed.headers.get('X-Gateway-Cache')).toBe('MISS')
    expect(await failed.text()).toContain('event: error')
    const again = await ask()
    expect(again.headers.get('X-Gateway-Cache')).toBe('MISS')
    expect(await again.text()).toContain('event: error')
    expect(upstreamCalls(prompt)).toBe(2)
  })

  it('an answer past its time to live', async () => {
    const prompt = fresh()
    const ask = () => post('/api/chat', { model: 'brief', messages: [{ role: 'user', content: prompt }] })
    const statuses: (string | null)[] = []
    for (const wait of [0, 0, 1500]) {
      await new Promise((resolve) => setTimeout(resolve, wait))
      const response = await ask()
      statuses.push(response.headers.get('X-Gateway-Cache'))
      await response.text()
    }
    expect(statuses).toEqual(['MISS', 'HIT', 'MISS'])
    expect(upstreamCalls(prompt)).toBe(2)
  })
})

describe('Cache-Control', () => {
  const ask = (prompt: string, cacheControl?: string) =>
    post(
      '/api/chat',
      { messages: [{ role: 'user', content: prompt }] },
      alice,
      cacheControl ? { 'Cache-Control': cacheControl } : {},
    )

  it('no-cache skips the lookup, and the fresh answer replaces the cached one', async () => {
    const prompt = fresh()
    const statuses: (string | null)[] = []
    for (const cacheControl of [undefined, 'no-cache', undefined]) {
      const response = await ask(prompt, cacheControl)
      statuses.push(response.headers.get('X-Gateway-Cache'))
      expect(streamedText(await response.text())).toBe(`echo: ${prompt}`)
    }
    expect(statuses).toEqual(['MISS', 'MISS', 'HIT'])
    expect(upstreamCalls(prompt)).toBe(2)
  })

  it('no-store neither reads nor writes the cache', async () => {
    const prompt = fresh()
    const statuses: (string | null)[] = []
    for (const cacheControl of ['no-store', undefined, 'no-store', undefined]) {
      const response = await ask(prompt, cacheControl)
      statuses.push(response.headers.get('X-Gateway-Cache'))
      expect(streamedText(await response.text())).toBe(`echo: ${prompt}`)
    }
    expect(statuses).toEqual(['BYPASS', 'MISS', 'BYPASS', 'HIT'])
    expect(upstreamCalls(prompt)).toBe(3)
  })

  it('is a header a page on another origin may read', async () => {
    const response = await fetch(`${gateway.url}/api/models`, { headers: { Origin: 'https://elsewhere.example' } })
    expect(response.headers.get('Access-Control-Expose-Headers')).toContain('X-Gateway-Cache')
  })
})

describe('the ledger', () => {
  it('has a hit at $0, with the cost of the answer it was served from as its saving', async () => {
    const prompt = fresh()
    for (let i = 0; i < 3; i++) {
      const response = await post('/api/chat', { messages: [{ role: 'user', content: prompt }] }, bob)
      await response.text()
    }
    type Row = { cache_status: string; requests: number; cost_usd: number; saved_usd: number }
    let rows: Row[] = []
    const hits = () => rows.find((row) => row.cache_status === 'HIT')
    await expect
      .poll(
        async () => {
          const response = await fetch(`${gateway.url}/api/admin/usage?group_by=principal,cache_status`, {
            headers: { Authorization: `Bearer ${ops}` },
          })
          rows = ((await response.json()) as { rows: Array<Row & { principal: string }> }).rows.filter(
            (row) => row.principal === 'bob',
          )
          return rows.find((row) => row.cache_status === 'HIT')?.requests ?? 0
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBeGreaterThanOrEqual(2)
    expect(hits()!.cost_usd).toBe(0)
    expect(hits()!.saved_usd).toBeCloseTo(hits()!.requests * ORIGINAL_COST, 8)
    const misses = rows.find((row) => row.cache_status === 'MISS')!
    expect(misses.cost_usd).toBeGreaterThan(0)
  })
})
