import { afterEach, describe, expect, it, vi } from 'vitest'
import { MAX_JSON_DEPTH } from '../../src/request/json-limits'
import { AnswerStream } from '../../src/streams/answer-stream'
import { call, hello, streamEnv, until } from '../streams/helpers'
import { freshIp } from '../helpers/fresh-ip'

/**
 * Issue 19, finding 4: input that made an answer fail after admission (a 500 from inside the
 * answer's object) kept the caller's stream slot and reservation until the lease expired. Such
 * input is now refused with 400 before anything is reserved, and any other failure to start
 * gives the lease back at once.
 */
const env = () =>
  streamEnv({
    ANONYMOUS_CONCURRENT_STREAMS: '1',
    MODELS: {
      demo: { adapter: 'demo', token_delay_ms: 0 },
      silent: { adapter: 'demo', token_delay_ms: 0, silence_after_tokens: 1, silence_ms: 60_000 },
      gemini: { adapter: 'gemini', upstream_model: 'gemini-2.5-flash', api_key_secret: 'GEMINI_KEY' },
    },
    GEMINI_KEY: 'test-key',
  })

/** Each test is its own anonymous caller, so slots never leak from one test into the next. */
const caller = () => ({
  'Content-Type': 'application/json',
  'CF-Connecting-IP': freshIp(),
})

/** `body` as JSON, or as it is when it is JSON text already. */
function post(path: string, body: unknown, headers: Record<string, string>, testEnv = env()) {
  return call(path, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) }, testEnv)
}

/**
 * `{"a":{"a":…}}` nested `depth` deep, as JSON text spliced in where `DEEP` stands: made as a
 * value and serialised, it would be walked recursively by the test itself, the one place it
 * must not be (issue 29, finding 8).
 */
const DEEP = '\u0001deep\u0001'
const nestedJson = (depth: number) => '{"a":'.repeat(depth) + '{"type":"string"}' + '}'.repeat(depth)
const withDeep = (body: object) =>
  JSON.stringify({ model: 'demo', ...body }).replace(JSON.stringify(DEEP), nestedJson(5000))

const deepTool = withDeep({ ...hello, tools: [{ type: 'function', function: { name: 'f', parameters: DEEP } }] })
const deepSchema = withDeep({
  ...hello,
  response_format: { type: 'json_schema', json_schema: { name: 's', schema: DEEP } },
})

/** The slot is free: a long answer starts, and a second one (the limit is 1) is refused. */
async function expectSlotFree(headers: Record<string, string>, testEnv: Env) {
  const first = await post('/api/streams', { ...hello, model: 'silent' }, headers, testEnv)
  expect(first.status).toBe(201)
  const second = await post('/api/streams', { ...hello, model: 'silent' }, headers, testEnv)
  expect(second.status).toBe(429)
}

afterEach(() => vi.restoreAllMocks())

describe('input nested past any stack', () => {
  for (const [name, body] of Object.entries({ 'tool parameters': deepTool, 'a json_schema': deepSchema })) {
    for (const path of ['/api/streams', '/api/chat', '/v1/chat/completions']) {
      it(`${name} 5,000 deep: 400 on ${path} before anything is reserved`, async () => {
        const headers = caller()
        const testEnv = env()
        const response = await post(path, body, headers, testEnv)
        expect(response.status).toBe(400)
        const text = await response.text()
        expect(text).toContain(`deeper than ${MAX_JSON_DEPTH} levels`)
        await expectSlotFree(headers, testEnv)
      })
    }
  }

  it('a JSON Schema larger than a message is refused naming it', async () => {
    const big = { type: 'object', description: 'x'.repeat(40_000) }
    const response = await post(
      '/api/chat',
      { ...hello, tools: [{ type: 'function', function: { name: 'f', parameters: big } }] },
      caller(),
      env(),
    )
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({
      error: { code: 'invalid_request', issues: [{ path: 'tools.0.function.parameters' }] },
    })
  })
})

describe('URLs are parsed at validation', () => {
  it('an image URL that does not parse (`https://[`) is a 400 naming it, not a 500 from the adapter', async () => {
    const image = { type: 'image_url', image_url: { url: 'https://[' } }
    const body = { model: 'gemini', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }, image] }] }
    for (const path of ['/api/chat', '/api/streams']) {
      const headers = caller()
      const response = await post(path, body, headers)
      expect(response.status).toBe(400)
      expect(await response.json()).toMatchObject({
        error: { code: 'invalid_request', issues: [{ path: 'messages.0.content.1.image_url.url' }] },
      })
    }
  })
})

describe('a stored answer that fails to start', () => {
  it('gives its lease back at once when the object throws in begin', async () => {
    // Thrown, not a rejected promise made up front: that one was reported by the runtime as an
    // uncaught `RangeError: Maximum call stack size exceeded`, which a full run pinned on whatever
    // test ran beside it (issue 29, finding 8, blamed the 5,000-deep test for this mock).
    vi.spyOn(AnswerStream.prototype, 'begin').mockImplementationOnce(() => {
      throw new Error('begin failed (a test double)')
    })
    const headers = caller()
    const testEnv = env()
    const failed = await post('/api/streams', { ...hello, model: 'silent' }, headers, testEnv)
    expect(failed.status).toBe(500)
    expect(await failed.json()).toMatchObject({ error: { code: 'internal_error' } })
    // The release runs beside the response: wait for it, not for the lease's expiry (minutes).
    await until(async () => {
      const next = await post('/api/streams', { ...hello, model: 'silent' }, headers, testEnv)
      return next.status === 201
    }, 3000)
  })
})
