import { once } from 'node:events'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { TestUpstream, testModels } from './upstream-server'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * Issue 26, "the first token decides", its second half: a streaming answer whose first token is
 * slower than a heartbeat starts its response with the format's heartbeat and keeps waiting, so
 * a proxy with a header timeout never cuts it; a refusal that comes after that is the format's
 * error event, never a clean end. Through the real Worker under `wrangler dev`, in front of an
 * upstream on 127.0.0.1 that is silent, or refuses late, on purpose.
 */
const HEARTBEAT_MS = 500
const SILENT_MS = 3 * HEARTBEAT_MS

let upstream: TestUpstream
let gateway: WranglerDev
/** The SDKs send a key of their own: a real one. */
const apiKey = generateApiKey()

beforeAll(async () => {
  upstream = new TestUpstream()
  const upstreamUrl = await upstream.start()
  gateway = await startWranglerDev({
    DEFAULT_MODEL: 'upstream',
    // One attempt per answer: a refusal is the upstream's first.
    MODELS: testModels(upstreamUrl),
    ANONYMOUS_MODELS: 'upstream',
    HEARTBEAT_MS: String(HEARTBEAT_MS),
    API_KEYS: JSON.stringify({ sdk: { sha256: await hashApiKey(apiKey), models: ['*'] } }),
  })
})

afterAll(async () => {
  await gateway?.stop()
  await upstream?.stop()
})

interface Surface {
  path: string
  body: (content: string) => object
  /** The format's heartbeat, as it starts the body. */
  heartbeat: string
  /** What only a finished answer ends with. */
  cleanEnd: RegExp
  /** The format's error event. */
  errorEvent: RegExp
  /** Where the answer's first event begins. */
  start: string
}

const messages = (content: string) => [{ role: 'user', content }]
const surfaces: Surface[] = [
  {
    path: '/api/chat',
    body: (content) => ({ model: 'upstream', messages: messages(content) }),
    heartbeat: ': ping\n\n',
    cleanEnd: /^event: done$/gm,
    errorEvent: /^event: error$/gm,
    start: 'event: start',
  },
  {
    path: '/v1/chat/completions',
    body: (content) => ({ model: 'upstream', stream: true, messages: messages(content) }),
    heartbeat: ': ping\n\n',
    cleanEnd: /^data: \[DONE\]$/gm,
    errorEvent: /^data: \{"error":/gm,
    start: 'data: {"id"',
  },
  {
    path: '/v1/messages',
    body: (content) => ({ model: 'upstream', max_tokens: 64, stream: true, messages: messages(content) }),
    heartbeat: 'event: ping\n',
    cleanEnd: /^event: message_stop$/gm,
    errorEvent: /^event: error$/gm,
    start: 'event: message_start',
  },
  {
    path: '/v1/responses',
    body: (content) => ({ model: 'upstream', stream: true, store: false, input: content }),
    heartbeat: ': ping\n\n',
    cleanEnd: /^event: response\.completed$/gm,
    errorEvent: /^event: error$/gm,
    start: 'event: response.created',
  },
]

/** Asks, and reads the whole stream, noting when its headers came. */
async function ask(surface: Surface, content: string) {
  const sent = Date.now()
  const response = await fetch(`${gateway.url}${surface.path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(surface.body(content)),
    signal: AbortSignal.timeout(15_000),
  })
  const headersAfterMs = Date.now() - sent
  const text = await response.text()
  return { response, headersAfterMs, text, tookMs: Date.now() - sent }
}

const count = (text: string, pattern: RegExp) => text.match(pattern)?.length ?? 0

/** The Worker's "answer ended" log lines (what the ledger gets too) for `path` with `outcome`. */
const ended = (path: string, outcome: string) =>
  gateway
    .logs()
    .split('\n')
    .filter(
      (line) =>
        line.includes('"msg":"answer ended"') &&
        line.includes(`"path":"${path}"`) &&
        line.includes(`"outcome":"${outcome}"`),
    )

describe('an upstream silent for three heartbeats before its first token', () => {
  for (const surface of surfaces) {
    it(`${surface.path}: 200 and heartbeats before the first token, then the whole answer`, async () => {
      const content = `silent:${SILENT_MS}`
      const { response, headersAfterMs, text, tookMs } = await ask(surface, content)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
      expect(response.headers.get('x-gateway-attempts')).toBe('1')
      // The headers came with the first heartbeat, long before the answer.
      expect(headersAfterMs).toBeLessThan(SILENT_MS - HEARTBEAT_MS / 2)
      expect(tookMs).toBeGreaterThanOrEqual(SILENT_MS)
      expect(text.startsWith(surface.heartbeat)).toBe(true)
      const before = text.slice(0, text.indexOf(surface.start))
      expect(before.split(surface.heartbeat).length - 1).toBeGreaterThanOrEqual(2)
      expect(text).toContain(`echo: ${content}`)
      expect(count(text, surface.cleanEnd)).toBe(1)
      expect(count(text, surface.errorEvent)).toBe(0)
    })
  }

  it('the openai SDK reads the streamed answer', async () => {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 })
    const stream = await client.chat.completions.create({
      model: 'upstream',
      stream: true,
      messages: [{ role: 'user', content: `silent:${SILENT_MS}` }],
    })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    expect(text).toBe(`echo: silent:${SILENT_MS}`)
  })

  it('the Anthropic SDK reads the streamed message (a ping before message_start)', async () => {
    const client = new Anthropic({ baseURL: gateway.url, apiKey, maxRetries: 0 })
    const message = await client.messages
      .stream({ model: 'upstream', max_tokens: 64, messages: [{ role: 'user', content: `silent:${SILENT_MS}` }] })
      .finalMessage()
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: `echo: silent:${SILENT_MS}` })])
    expect(message.stop_reason).toBe('end_turn')
  })
})

describe('an upstream that refuses after a heartbeat', () => {
  const content = `late:500:${HEARTBEAT_MS * 2}`
  for (const surface of surfaces) {
    it(`${surface.path}: 200, a heartbeat, then the error event, never a clean end`, async () => {
      const refusals = ended(surface.path, 'error').length
      const { response, text } = await ask(surface, content)
      expect(response.status).toBe(200)
      expect(text.startsWith(surface.heartbeat)).toBe(true)
      expect(count(text, surface.errorEvent)).toBe(1)
      expect(count(text, surface.cleanEnd)).toBe(0)
      // The refusal's own message, as a 5xx body would have it.
      expect(text).toMatch(/upstream_error|upstream says 500|model provider/)
      // Nothing after the error event.
      const afterError = text.slice(text.search(surface.errorEvent))
      expect(afterError.split('\n\n').filter(Boolean).length).toBeLessThanOrEqual(
        surface.path === '/v1/responses' ? 2 : 1,
      )
      // Ended as a refusal is: an error with the refusal's status, which the ledger has too.
      await expect.poll(() => ended(surface.path, 'error').length, { timeout: 5000 }).toBe(refusals + 1)
      expect(ended(surface.path, 'error').at(-1)).toMatch(/"status":5\d\d/)
    })
  }

  it('the openai SDK raises', async () => {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 })
    const stream = await client.chat.completions.create({
      model: 'upstream',
      stream: true,
      messages: [{ role: 'user', content }],
    })
    const read = async () => {
      for await (const chunk of stream) void chunk
    }
    await expect(read()).rejects.toThrow(/upstream says 500|model provider/i)
  })

  it('the Anthropic SDK raises', async () => {
    const client = new Anthropic({ baseURL: gateway.url, apiKey, maxRetries: 0 })
    const message = client.messages
      .stream({ model: 'upstream', max_tokens: 64, messages: [{ role: 'user', content }] })
      .finalMessage()
    await expect(message).rejects.toThrow(/upstream says 500|model provider/i)
  })
})

describe('an upstream that refuses before the heartbeat is due', () => {
  for (const surface of surfaces) {
    it(`${surface.path}: a 5xx JSON error, as before`, async () => {
      const { response, text } = await ask(surface, 'status:500')
      expect(response.status).toBeGreaterThanOrEqual(500)
      expect(response.headers.get('content-type')).toMatch(/^application\/json/)
      expect(JSON.parse(text)).toHaveProperty('error')
    })
  }
})

describe('a client that leaves during the silent wait', () => {
  for (const surface of surfaces) {
    it(`${surface.path}: the upstream sees its request aborted`, async () => {
      const cancelled = ended(surface.path, 'cancelled').length
      const asked = upstream.requests.length
      const abandoned = upstream.abandonedAnswers
      const request = httpRequest(new URL(surface.path, gateway.url), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        agent: false,
      })
      request.on('error', () => {}) // the socket is destroyed on purpose
      const responded = once(request, 'response').then(([r]) => r as IncomingMessage)
      request.end(JSON.stringify(surface.body('silent:20000')))
      await upstream.until(() => upstream.requests.length > asked)
      // The response has begun with its heartbeat: the answer has not.
      const response = await responded
      expect(response.statusCode).toBe(200)
      const [first] = (await once(response, 'data')) as [Buffer]
      expect(first.toString()).toContain(surface.heartbeat.trim())
      const closed = new Promise((resolve) => request.once('close', resolve))
      request.destroy()
      await closed
      await upstream.until(() => upstream.abandonedAnswers > abandoned, 10_000)
      // The client stopped the answer; nothing failed.
      await expect.poll(() => ended(surface.path, 'cancelled').length, { timeout: 5000 }).toBe(cancelled + 1)
      expect(ended(surface.path, 'cancelled').at(-1)).toContain('"status":499')
    })
  }
})
