import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { call, streamEnv } from '../streams/helpers'

/**
 * Every route, fed what a hostile or broken client sends: random JSON of random shapes, bodies
 * nested thousands deep, keys named like `Object.prototype`'s, huge numbers and strings, random
 * bytes, and valid requests with one field anywhere replaced by any of those. Whatever comes in,
 * the answer is a refusal (4xx, a JSON body with an error code) or what the route makes (a
 * stream, a stream's id, a list): never a 5xx, never a crash.
 */
const apiKey = generateApiKey()
const env = streamEnv({ MODELS: { demo: { adapter: 'demo', token_delay_ms: 0 } } })
const RUNS = 150
/**
 * A new seed each run, in every test's name and in fast-check's report of a failure with the
 * counterexample (shrunk) and its path: to replay a failure, put the reported seed here.
 */
const SEED = Math.floor(Math.random() * 2 ** 31)
const options = { numRuns: RUNS, seed: SEED }

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty']
const key = fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS, 'model', 'messages', 'role', 'content', 'type'), fc.string())
const hugeNumber = fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, 5e-324, -0, 1e21)
const hugeString = fc.constantFrom('x'.repeat(40_000), '\u0000'.repeat(1000), '\ud800'.repeat(500), '😀'.repeat(20_000))
/** A JSON value of any shape, with the awkward cases weighted in. */
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    hugeNumber,
    fc.string(),
    hugeString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value
/** `[[[…]]]` or `{"a":{"a":…}}`, up to far past any stack. */
const deep = fc
  .tuple(fc.integer({ min: 1, max: 20_000 }), fc.boolean())
  .map(([depth, arrays]) =>
    arrays ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth),
  )

/** A valid request with a JSON Schema in it, so that mutations reach the values carried whole. */
const chat = {
  tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
  model: 'demo',
  messages: [{ role: 'user', content: 'hi' }],
}
const validBodies: Record<string, unknown> = {
  '/api/chat': chat,
  '/api/streams': chat,
  '/v1/chat/completions': { ...chat, stream: true },
  '/v1/responses': {
    model: 'demo',
    input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }] }],
    tools: [{ type: 'function', name: 'f', parameters: { type: 'object' } }],
    text: { format: { type: 'json_schema', name: 's', schema: { type: 'object' } } },
    stream: true,
  },
  '/v1/messages': { model: 'demo', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }], stream: true },
  '/v1/messages/count_tokens': { model: 'demo', messages: [{ role: 'user', content: 'hi' }] },
  '/v1/responses/input_tokens': { model: 'demo', input: 'hi', instructions: 'Be brief.' },
  '/api/ui/chat': { id: 'chat-1', messages: [{ id: 'm1', role: 'user', parts: [{ type: 'text', text: 'hi' }] }] },
}

/** A valid body with the value at one path (or a new key beside it) replaced. */
function mutate(body: unknown, steps: number[], newKey: string | undefined, value: unknown): unknown {
  const copy = structuredClone(body)
  let at: unknown = copy
  for (const step of steps) {
    const children = typeof at === 'object' && at !== null ? Object.keys(at) : []
    if (!children.length) break
    const child = (at as Record<string, unknown>)[children[step % children.length]!]
    if (typeof child !== 'object' || child === null) {
      if (newKey === undefined) {
        Object.defineProperty(at, children[step % children.length]!, { value, enumerable: true, writable: true })
        return copy
      }
      break
    }
    at = child
  }
  if (typeof at === 'object' && at !== null) {
    Object.defineProperty(at, newKey ?? '__proto__', { value, enumerable: true, writable: true, configurable: true })
  }
  return copy
}

const bodies = (path: string) =>
  fc.oneof(
    json.map((value) => JSON.stringify(value) ?? 'null'),
    deep,
    fc.uint8Array({ maxLength: 512 }),
    fc
      .tuple(
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.option(key, { nil: undefined }),
        fc.oneof(json, hugeNumber, hugeString),
      )
      .map(([steps, newKey, value]) => JSON.stringify(mutate(validBodies[path], steps, newKey, value))),
    // Deep nesting inside a valid body (a tool's parameters, say), spliced in as text: building
    // it as a value would overflow the test's own stack.
    fc
      .tuple(fc.array(fc.nat(), { maxLength: 5 }), fc.option(key, { nil: undefined }), deep)
      .map(([steps, newKey, nested]) =>
        JSON.stringify(mutate(validBodies[path], steps, newKey, DEEP)).replace(JSON.stringify(DEEP), nested),
      ),
  )
const DEEP = '\u0001deep\u0001'

/** What the route said is a refusal with a code, or what it makes; its body is read to the end. */
async function expectNoServerError(response: Response, what: string) {
  const type = response.headers.get('Content-Type') ?? ''
  const text = await response.text()
  expect(response.status, `${what} → ${response.status} ${text.slice(0, 300)}`).toBeLessThan(500)
  if (response.status >= 400) {
    expect(type, what).toMatch(/^application\/json/)
    // Our shape and OpenAI's carry `error.code`; Anthropic's (`/v1/messages`) `error.type`.
    const { error } = JSON.parse(text) as { error: { code?: unknown; type?: unknown } }
    expect(typeof (error.code ?? error.type), `${what} → ${text.slice(0, 300)}`).toBe('string')
  } else if (response.status === 200) {
    expect(type, what).toMatch(/^(text\/event-stream|application\/json)/)
  }
}

const post = (path: string, body: string | Uint8Array, contentType = 'application/json') =>
  call(path, { method: 'POST', headers: { 'Content-Type': contentType }, body }, env)

describe(`every route, fuzzed (seed ${SEED})`, { timeout: 120_000 }, () => {
  for (const path of Object.keys(validBodies)) {
    it(`POST ${path}: any body is a JSON refusal with a code or a stream, never a 5xx`, async () => {
      await fc.assert(
        fc.asyncProperty(bodies(path), async (body) => {
          await expectNoServerError(await post(path, body), `POST ${path} ${String(body).slice(0, 200)}`)
        }),
        options,
      )
    })
  }

  it('POST with any content type and any bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.keys(validBodies)),
        fc.oneof(fc.string(), fc.constantFrom('application/json; charset=utf-16', 'text/plain', 'application/json;;')),
        fc.uint8Array({ maxLength: 256 }),
        async (path, type, bytes) => {
          await expectNoServerError(await post(path, bytes, type), `POST ${path} as ${type}`)
        },
      ),
      options,
    )
  })

  it('GET and DELETE of any stream or chat id, with any Last-Event-ID', async () => {
    const id = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.constantFrom(...PROTOTYPE_KEYS),
      fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 32, maxLength: 64 }),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'DELETE', 'PUT', 'PATCH'),
        fc.constantFrom('/api/streams/', '/api/ui/chat/', '/v1/responses/'),
        id,
        fc.option(fc.oneof(fc.string(), fc.constantFrom('1e308', '-1', '99999999999999999999', '0')), {
          nil: undefined,
        }),
        async (method, prefix, streamId, lastEventId) => {
          const path = `${prefix}${encodeURIComponent(streamId)}${prefix.includes('ui') ? '/stream' : ''}`
          const headers: Record<string, string> = {}
          if (lastEventId !== undefined) headers['Last-Event-ID'] = lastEventId.replace(/[\r\n\0]/g, '')
          const query = lastEventId === undefined ? '' : `?last_event_id=${encodeURIComponent(lastEventId)}`
          await expectNoServerError(await call(path + query, { method, headers }, env), `${method} ${path}`)
        },
      ),
      options,
    )
  })

  it('GET the model lists with any credentials', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/api/models', '/v1/models'), fc.string(), async (path, credential) => {
        const headers = { Authorization: `Bearer ${credential.replace(/[\r\n\0]/g, '')}` }
        await expectNoServerError(await call(path, { headers }, env), `GET ${path}`)
      }),
      options,
    )
  })
})

describe(`item_reference, fuzzed (seed ${SEED})`, { timeout: 120_000 }, () => {
  let keyed: Env
  /** The id of an item a stored response of this key really has. */
  let realItem: string
  beforeAll(async () => {
    keyed = streamEnv({
      MODELS: { demo: { adapter: 'demo', token_delay_ms: 0 } },
      API_KEYS: { fuzzer: { sha256: await hashApiKey(apiKey), models: ['*'] } },
    })
    const created = await call(
      '/v1/responses',
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({ model: 'demo', input: 'hi' }),
      },
      keyed,
    )
    realItem = ((await created.json()) as { output: Array<{ id: string }> }).output[0]!.id
  })

  it('any list of references, real, made up, repeated or too many, with or without a key: never a 5xx', async () => {
    const itemId = fc.oneof(
      fc.constant('REAL'),
      fc.constantFrom(...PROTOTYPE_KEYS, 'rs_x', `msg_${'a'.repeat(24)}_0`, `fc_${'b'.repeat(24)}_999999`),
      fc.string({ maxLength: 80 }),
      fc
        .tuple(
          fc.constantFrom('msg', 'rs', 'fc'),
          fc.string({ unit: fc.constantFrom(...'abcdef0123'), minLength: 24, maxLength: 24 }),
          fc.nat(9),
        )
        .map(([prefix, id, index]) => `${prefix}_${id}_${index}`),
    )
    const item = fc.oneof(
      { weight: 4, arbitrary: itemId.map((id) => ({ type: 'item_reference', id })) },
      { weight: 1, arbitrary: fc.constant({ role: 'user', content: 'hi' }) },
      { weight: 1, arbitrary: json },
    )
    await fc.assert(
      fc.asyncProperty(fc.array(item, { maxLength: 160 }), fc.boolean(), async (items, withKey) => {
        const input = items.map((i) => (isReference(i) && i.id === 'REAL' ? { ...i, id: realItem } : i))
        const headers: Record<string, string> = { 'Content-Type': 'application/json' }
        if (withKey) headers.Authorization = `Bearer ${apiKey}`
        const body = JSON.stringify({ model: 'demo', input })
        const response = await call('/v1/responses', { method: 'POST', headers, body }, keyed)
        await expectNoServerError(response, `POST /v1/responses ${body.slice(0, 300)}`)
      }),
      { numRuns: 60, seed: SEED },
    )
  })
})

function isReference(value: unknown): value is { type: 'item_reference'; id: string } {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'item_reference'
}
