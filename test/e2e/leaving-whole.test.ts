import { once } from 'node:events'
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { TestUpstream, testModels } from './upstream-server'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * Issue 29, finding 7: a client that asked for a whole answer (`stream: false`) and closed its
 * socket left the upstream running under `wrangler dev`, where `request.signal` never tells the
 * Worker. Here a real socket is destroyed (node:http), and the loopback upstream reports when
 * the gateway hangs up on it. An answer not ready within a heartbeat starts its body with
 * whitespace, which is what makes the departure visible; its JSON still parses, in the SDK too.
 */
const HEARTBEAT_MS = 1000

let upstream: TestUpstream
let gateway: WranglerDev
const key = generateApiKey()
const owner = { Authorization: `Bearer ${key}` }

beforeAll(async () => {
  upstream = new TestUpstream()
  const upstreamUrl = await upstream.start()
  gateway = await startWranglerDev({
    DEFAULT_MODEL: 'upstream',
    MODELS: testModels(upstreamUrl),
    ANONYMOUS_MODELS: 'upstream',
    HEARTBEAT_MS: String(HEARTBEAT_MS),
    API_KEYS: JSON.stringify({ owner: { sha256: await hashApiKey(key), models: ['*'] } }),
  })
})

afterAll(async () => {
  await gateway?.stop()
  await upstream?.stop()
})

/** Every whole-answer path: Chat Completions, Messages, and Responses kept and not kept. */
const surfaces = (content: string): Array<[string, string, object, Record<string, string>]> => [
  ['/v1/chat/completions', 'chat', { model: 'upstream', stream: false, messages: [{ role: 'user', content }] }, {}],
  ['/v1/messages', 'message', { model: 'upstream', max_tokens: 64, messages: [{ role: 'user', content }] }, {}],
  ['/v1/responses', 'response, store: false', { model: 'upstream', store: false, input: content }, {}],
  ['/v1/responses', 'response, store: true', { model: 'upstream', store: true, input: content }, owner],
]

/** A POST over a socket of its own, which the test can destroy as a departing client would. */
function post(path: string, body: object, headers: Record<string, string>) {
  const request = httpRequest(new URL(path, gateway.url), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    agent: false,
  })
  request.on('error', () => {}) // the socket is destroyed on purpose
  const response = once(request, 'response').then(([r]) => r as IncomingMessage)
  response.catch(() => {}) // rejects when the test leaves before any response
  request.end(JSON.stringify(body))
  return { request, response }
}

/** Starts an answer the upstream never finishes, and resolves once the upstream has it. */
async function stalledAnswer(path: string, body: object, headers: Record<string, string>) {
  const asked = upstream.requests.length
  const abandoned = upstream.abandonedAnswers
  const sent = post(path, body, headers)
  await upstream.until(() => upstream.requests.length > asked)
  return { ...sent, cancelled: () => upstream.until(() => upstream.abandonedAnswers > abandoned, 10_000) }
}

async function leave(request: ClientRequest) {
  const closed = new Promise((resolve) => request.once('close', resolve))
  request.destroy()
  await closed
}

describe('a whole-answer client that closes its socket', () => {
  for (const [path, name, body, headers] of surfaces('stall')) {
    it(`${path} (${name}): leaving before a byte of the answer cancels the upstream`, async () => {
      const answer = await stalledAnswer(path, body, headers)
      await leave(answer.request)
      await answer.cancelled()
    })

    it(`${path} (${name}): leaving once the body has begun cancels the upstream`, async () => {
      const answer = await stalledAnswer(path, body, headers)
      // Past a heartbeat the answer's headers come, then whitespace: the body has begun.
      const response = await answer.response
      expect(response.statusCode).toBe(200)
      expect(response.headers['content-type']).toMatch(/^application\/json/)
      const [first] = (await once(response, 'data')) as [Buffer]
      expect(first.toString().trim()).toBe('')
      await leave(answer.request)
      await answer.cancelled()
    })
  }
})

describe('a whole answer slower than a heartbeat', () => {
  for (const [path, name, body, headers] of surfaces('gated')) {
    it(`${path} (${name}): whitespace, then the whole answer as JSON`, async () => {
      const answer = await stalledAnswer(path, body, headers)
      const response = await answer.response
      expect(response.statusCode).toBe(200)
      upstream.releaseGate()
      let text = ''
      for await (const piece of response) text += piece
      expect(text).toMatch(/^\s+\{/)
      expect(JSON.stringify(JSON.parse(text))).toContain('First and the rest.')
    })
  }

  /** An SDK client whose fetch reports when the answer's headers have come. */
  function sdkClient() {
    let headersCame!: () => void
    const headers = new Promise<void>((resolve) => (headersCame = resolve))
    const client = new OpenAI({
      baseURL: `${gateway.url}/v1`,
      apiKey: key,
      maxRetries: 0,
      fetch: async (input, init) => {
        const response = await fetch(input, init)
        headersCame()
        return response
      },
    })
    return { client, headers }
  }

  it('the openai SDK reads the answer whole', async () => {
    const { client, headers } = sdkClient()
    const completion = client.chat.completions.create({
      model: 'upstream',
      messages: [{ role: 'user', content: 'gated' }],
    })
    await headers
    upstream.releaseGate()
    const answer = await completion
    expect(answer.choices[0]!.message.content).toBe('First and the rest.')
    expect(answer.choices[0]!.finish_reason).toBe('stop')
  })

  it('a failure after the body began is an error body with no answer in it, never a finished answer', async () => {
    const { client, headers } = sdkClient()
    const completion = client.chat.completions.create({
      model: 'upstream',
      messages: [{ role: 'user', content: 'gated-reset' }],
    })
    await headers
    upstream.releaseGate()
    // The status was sent before the failure: the SDK returns the body as it is, without choices.
    const answer = (await completion) as unknown as Record<string, unknown>
    expect(answer.choices).toBeUndefined()
    expect(answer.error).toMatchObject({ code: 'upstream_connection_lost', type: 'api_error' })
  })
})
