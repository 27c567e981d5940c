import { describe, expect, it } from 'vitest'
import app from '../../src/index'
import { demoReply } from '../../src/providers/demo/reply'
import { eventsOf, parseEventStream } from '../helpers/sse'
import { asEnv, type TestEnv } from '../helpers/env'

/** A fresh environment per test: config is parsed once per env object, as in a real isolate. */
function testEnv(overrides: TestEnv = {}): Env {
  return asEnv({
    DEFAULT_MODEL: 'demo',
    MODELS: {
      demo: { adapter: 'demo', token_delay_ms: 0 },
      flaky: { adapter: 'demo', token_delay_ms: 0, fail_after_tokens: 3 },
      keyed: {
        adapter: 'openai',
        base_url: 'https://api.example.com/v1',
        upstream_model: 'm',
        api_key_secret: 'EXAMPLE_KEY',
      },
      unreachable: { adapter: 'openai', base_url: 'http://127.0.0.1:1/v1', upstream_model: 'm' },
    },
    // Access control is tested in test/access/; here every model is open, as before it existed.
    ANONYMOUS_MODELS: 'demo, flaky, keyed, unreachable',
    MAX_BODY_BYTES: '2048',
    MAX_MESSAGES: '4',
    MAX_MESSAGE_CHARS: '200',
    ...overrides,
  })
}

const hello = { messages: [{ role: 'user', content: 'Hello, gateway' }] }

function post(body: unknown, init: RequestInit = {}, env = testEnv()) {
  return app.request(
    '/api/chat',
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      ...init,
    },
    env,
  )
}

async function errorOf(response: Response) {
  expect(response.headers.get('Content-Type')).toMatch(/^application\/json/)
  return ((await response.json()) as { error: { code: string; message: string; issues?: unknown[] } }).error
}

describe('POST /api/chat on the demo model', () => {
  it('streams the demo reply as start, deltas, usage and done, with streaming-safe headers', async () => {
    const response = await post(hello)
    expect(response.status).toBe(200)
    expect(response.headers.get('Content-Type')).toBe('text/event-stream; charset=utf-8')
    expect(response.headers.get('Cache-Control')).toBe('no-cache, no-transform')
    expect(response.headers.get('X-Accel-Buffering')).toBe('no')
    expect(response.headers.has('Content-Length')).toBe(false)

    const events = eventsOf(await response.text())
    expect(events[0]).toMatchObject({ event: 'start', id: '1', data: { model: 'demo' } })
    const text = events.filter((e) => e.event === 'delta').map((e) => (e.data as { text: string }).text)
    expect(text.length).toBeGreaterThan(10)
    expect(text.join('')).toBe(demoReply(hello.messages as never))
    expect(text.join('')).toContain('Hello, gateway')
    expect(events.at(-2)).toMatchObject({ event: 'usage', data: { completion_tokens: text.length } })
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { finish_reason: 'stop' } })
    expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1))
  })

  it('stops at max_tokens with finish_reason length', async () => {
    const events = eventsOf(await (await post({ ...hello, max_tokens: 4 })).text())
    expect(events.filter((e) => e.event === 'delta')).toHaveLength(4)
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { finish_reason: 'length' } })
  })

  it('ends a failing model with a retryable error event, never done', async () => {
    const body = await (await post({ ...hello, model: 'flaky' })).text()
    const names = parseEventStream(body).events.map((e) => e.event)
    expect(names).toEqual(['start', 'delta', 'delta', 'delta', 'error'])
    expect(eventsOf(body).at(-1)!.data).toMatchObject({ code: 'upstream_error', retryable: true })
  })
})

describe('POST /api/chat refusals', () => {
  it('400 invalid_json for a malformed body', async () => {
    const response = await post('{"messages": [')
    expect(response.status).toBe(400)
    expect(await errorOf(response)).toMatchObject({ code: 'invalid_json' })
  })

  it('400 invalid_request listing every offending path', async () => {
    const response = await post({
      messages: [{ role: 'robot', content: 'hi' }, { role: 'user' }],
      temperature: 3,
      top_p: -1,
      max_tokens: 0,
      stream: true,
    })
    expect(response.status).toBe(400)
    const error = await errorOf(response)
    expect(error.code).toBe('invalid_request')
    const paths = (error.issues as Array<{ path: string }>).map((issue) => issue.path).sort()
    expect(paths).toEqual(['max_tokens', 'messages.0.role', 'messages.1.content', 'stream', 'temperature', 'top_p'])
  })

  it('400 for too many messages or a message over the configured length', async () => {
    const many = Array.from({ length: 5 }, () => ({ role: 'user', content: 'x' }))
    expect(await errorOf(await post({ messages: many }))).toMatchObject({ issues: [{ path: 'messages' }] })
    const long = [{ role: 'user', content: 'x'.repeat(201) }]
    expect(await errorOf(await post({ messages: long }))).toMatchObject({ issues: [{ path: 'messages.0.content' }] })
  })

  it('400 unknown_model naming the models that exist', async () => {
    const response = await post({ ...hello, model: 'gpt-17' })
    expect(response.status).toBe(400)
    const error = await errorOf(response)
    expect(error.code).toBe('unknown_model')
    expect(error.message).toContain('demo')
  })

  it('415 for a body that is not JSON', async () => {
    const response = await post('hello', { headers: { 'Content-Type': 'text/plain' } })
    expect(response.status).toBe(415)
    expect(await errorOf(response)).toMatchObject({ code: 'unsupported_media_type' })
  })

  it('413 by Content-Length, before reading the body', async () => {
    const response = await post({ messages: [{ role: 'user', content: 'x'.repeat(3000) }] })
    expect(response.status).toBe(413)
    expect(await errorOf(response)).toMatchObject({ code: 'payload_too_large' })
  })

  it('413 for a streamed body without a length, once it passes the limit', async () => {
    let pulled = 0
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1024
        controller.enqueue(new TextEncoder().encode(' '.repeat(1024)))
      },
    })
    const response = await post(undefined, { body: endless, duplex: 'half' } as RequestInit)
    expect(response.status).toBe(413)
    // It stopped reading soon after the limit instead of buffering the endless body.
    expect(pulled).toBeLessThan(16 * 1024)
  })

  it('405 with Allow for other methods, 404 for other routes', async () => {
    const get = await app.request('/api/chat', {}, testEnv())
    expect(get.status).toBe(405)
    expect(get.headers.get('Allow')).toBe('POST')
    expect(await errorOf(get)).toMatchObject({ code: 'method_not_allowed' })
    const missing = await app.request('/api/nothing', {}, testEnv())
    expect(missing.status).toBe(404)
    expect(await errorOf(missing)).toMatchObject({ code: 'not_found' })
  })

  it('503 model_unavailable when a model’s secret is missing', async () => {
    const response = await post({ ...hello, model: 'keyed' })
    expect(response.status).toBe(503)
    expect(await errorOf(response)).toMatchObject({ code: 'model_unavailable' })
  })

  it('502 upstream_unavailable when the upstream cannot be reached, without naming it', async () => {
    const response = await post({ ...hello, model: 'unreachable' })
    expect(response.status).toBe(502)
    const text = await response.text()
    expect(JSON.parse(text).error.code).toBe('upstream_unavailable')
    expect(text).not.toContain('127.0.0.1')
  })

  it('500 config_invalid for a broken config, without echoing it', async () => {
    const env = asEnv({ MODELS: { demo: { adapter: 'smoke-signals', secret: 'sk-live-123' } } })
    const response = await post(hello, {}, env)
    expect(response.status).toBe(500)
    const text = await response.text()
    expect(JSON.parse(text).error.code).toBe('config_invalid')
    expect(text).not.toContain('smoke-signals')
    expect(text).not.toContain('sk-live-123')
  })
})
