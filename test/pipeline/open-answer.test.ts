import { afterEach, describe, expect, it, vi } from 'vitest'
import app from '../../src/index'
import { asEnv } from '../helpers/env'
import { openAI } from '../helpers/upstream'

/**
 * `openAnswer`'s attempts, through the real route with `fetch` standing in for the provider: what
 * the provider was asked, with which key, and what the client saw.
 */
const MODELS = {
  gpt: { adapter: 'openai', base_url: 'https://api.example.com/v1', upstream_model: 'gpt-4o', api_key_secret: 'KEY_A' },
  pooled: {
    adapter: 'openai',
    base_url: 'https://api.example.com/v1',
    upstream_model: 'gpt-4o',
    api_key_secret: 'KEY_A',
    api_key_secrets: ['KEY_B'],
  },
  patient: {
    adapter: 'openai',
    base_url: 'https://api.example.com/v1',
    upstream_model: 'gpt-4o',
    retries: 1,
    fallbacks: ['demo'],
  },
  persistent: {
    adapter: 'openai',
    base_url: 'https://api.example.com/v1',
    upstream_model: 'gpt-4o',
    api_key_secret: 'KEY_A',
    retries: 3,
    // Three failures in a row would open the default circuit before the fourth attempt.
    circuit_breaker: { failures: 10 },
  },
  'persistent-but-fragile': {
    adapter: 'openai',
    base_url: 'https://api.example.com/v1',
    upstream_model: 'gpt-4o',
    api_key_secret: 'KEY_A',
    retries: 3,
    circuit_breaker: { failures: 2 },
  },
  demo: { adapter: 'demo', token_delay_ms: 0 },
}

const ANSWER = openAI.text('Hi') + openAI.finish() + openAI.done

type Reply = Response | 'reset'
const keysSent: string[] = []

/** The provider answers each request with the next reply in turn, recording the key it was sent. */
function provider(...replies: Reply[]) {
  keysSent.length = 0
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (_input, init) => {
    keysSent.push(new Headers(init?.headers).get('Authorization') ?? '')
    const reply = replies.shift() ?? stream(ANSWER)
    if (reply === 'reset') throw new TypeError('Network connection lost.')
    return reply
  })
}

const stream = (body: string) => new Response(body, { headers: { 'Content-Type': 'text/event-stream' } })
const refusal = (status: number, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ error: { message: `says ${status}` } }), { status, headers })

afterEach(() => void vi.restoreAllMocks())

function post(model: string, signal?: AbortSignal) {
  const env = asEnv({
    DEFAULT_MODEL: 'gpt',
    MODELS,
    ANONYMOUS_MODELS: Object.keys(MODELS).join(', '),
    KEY_A: 'sk-a',
    KEY_B: 'sk-b',
  })
  const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] })
  const init = { method: 'POST', headers: { 'Content-Type': 'application/json' }, body, signal }
  return app.request('/api/chat', init, env)
}

describe('openAnswer’s attempts', () => {
  it('retries a 5xx, a reset and a stream that ends before its first event, then answers once', async () => {
    provider(refusal(503), 'reset', stream(''), stream(ANSWER))
    const response = await post('persistent')
    expect(response.status).toBe(200)
    expect(response.headers.get('X-Gateway-Attempts')).toBe('4')
    const text = await response.text()
    expect(text.match(/^event: (start|done|error)$/gm)).toEqual(['event: start', 'event: done'])
    expect(keysSent).toHaveLength(4)
  })

  it('skips the rest once its failures open the circuit', async () => {
    provider(refusal(500), refusal(500), refusal(500), stream(ANSWER))
    const response = await post('persistent-but-fragile')
    expect(response.status).toBe(502)
    expect(keysSent).toHaveLength(2)
  })

  it('stops after its retries, with the last failure', async () => {
    provider(refusal(500), refusal(500), refusal(500), stream(ANSWER))
    const response = await post('gpt')
    expect(response.status).toBe(502)
    expect(keysSent).toHaveLength(3)
  })

  it('answers from the third attempt after two 500s, and says how many it took', async () => {
    provider(refusal(500), refusal(502))
    const response = await post('gpt')
    expect(response.status).toBe(200)
    expect(response.headers.get('X-Gateway-Attempts')).toBe('3')
    const text = await response.text()
    expect(text.match(/^event: start$/gm)).toHaveLength(1)
    expect(text).toContain('"text":"Hi"')
    expect(keysSent).toHaveLength(3)
  })

  it('never retries a 400, a 401, a 403 or a 404', async () => {
    for (const status of [400, 401, 403, 404]) {
      provider(refusal(status))
      const response = await post('gpt')
      expect(response.status).toBe(status === 400 ? 400 : 502)
      expect(keysSent).toHaveLength(1)
    }
  })

  it('goes to the fallback at once when Retry-After asks for longer than it waits', async () => {
    provider(refusal(429, { 'Retry-After': '120' }))
    const response = await post('patient')
    expect(response.headers.get('X-Gateway-Attempts')).toBe('2')
    expect(await response.text()).toContain('"upstream":"demo"')
    expect(keysSent).toHaveLength(1)
  })

  it('rests a key that got a 429 and retries at once on the other', async () => {
    provider(refusal(429, { 'Retry-After': '60' }))
    for (let i = 0; i < 3; i++) expect((await post('pooled')).status).toBe(200)
    expect(keysSent).toEqual(['Bearer sk-a', 'Bearer sk-b', 'Bearer sk-b', 'Bearer sk-b'])
  })

  it('stops retrying at once when the client leaves during a wait', async () => {
    provider(refusal(503, { 'Retry-After': '5' }))
    const client = new AbortController()
    const response = post('gpt', client.signal)
    await vi.waitFor(() => expect(keysSent).toHaveLength(1))
    client.abort()
    // At once: waiting out the 5 s Retry-After would outlast the test's own timeout.
    expect((await response).status).toBe(499)
    expect(keysSent).toHaveLength(1)
  })
})
