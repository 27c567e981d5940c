import { env as bindings } from 'cloudflare:test'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { MAX_ISSUES } from '../../src/errors'
import { MAX_JSON_DEPTH } from '../../src/request/json-limits'
import { AnswerStream } from '../../src/streams/answer-stream'
import { openAI } from '../helpers/upstream'
import { call, streamEnv } from '../streams/helpers'

/**
 * Issue 29, findings 3, 6 and 8: the work a request can cause is bounded before it is done.
 * A list's length is checked before its items, and a refusal lists at most `MAX_ISSUES` issues
 * (127,000 bad items made a 10 MB refusal); every request counts against the rate limit before
 * anything is read or resolved, refusals included (a flood of 400s was never limited);
 * `item_reference`s are capped, each resolved once, and the conversation they make is held to a
 * size (99 references made a 6 KB body a 3.2 MB request upstream); and the fuzz test's finds.
 */
const key = generateApiKey()

/** Counts every call to the rate limiter; refuses from call `refuseFrom` on. */
function limiter(refuseFrom = Infinity) {
  const calls: string[] = []
  const binding = {
    limit: async ({ key: who }: { key: string }) => {
      calls.push(who)
      return { success: calls.length < refuseFrom }
    },
  }
  return { calls, binding }
}

async function env(overrides: Record<string, unknown> = {}) {
  return streamEnv({
    MODELS: {
      demo: { adapter: 'demo', token_delay_ms: 0 },
      gpt: { adapter: 'openai', base_url: 'https://upstream.test/v1', upstream_model: 'gpt-up' },
    },
    API_KEYS: { owner: { sha256: await hashApiKey(key), models: ['*'] } },
    ...overrides,
  })
}

function post(path: string, body: string, testEnv: Env, headers: Record<string, string> = {}) {
  return call(path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body }, testEnv)
}

const bearer = { Authorization: `Bearer ${key}` }

/** An upstream in place of `fetch` that answers `text` and records each request it gets. */
function upstream(text = 'Hi.') {
  const bodies: Array<{ messages: unknown[] }> = []
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (_, init) => {
    bodies.push(JSON.parse(String(init?.body)) as { messages: unknown[] })
    return new Response(openAI.text(text) + openAI.finish() + openAI.usage(3, 2) + openAI.done, {
      headers: { 'Content-Type': 'text/event-stream' },
    })
  })
  return bodies
}

afterEach(() => vi.restoreAllMocks())

/** `[0,0,…]`, `count` long, as JSON text: 127,000 of them is 254 KB, within the body limit. */
const zeros = (count: number) => `[${new Array<string>(count).fill('0').join(',')}]`
const MANY = 127_000

describe('a list of 127,000 bad items is one refusal, not 127,000', () => {
  const many = zeros(MANY)
  const bodies: Array<[string, string]> = [
    ['/api/chat', `{"messages":${many}}`],
    ['/api/streams', `{"messages":${many}}`],
    ['/api/ui/chat', `{"id":"c","messages":${many}}`],
    ['/v1/chat/completions', `{"model":"demo","messages":${many}}`],
    ['/v1/responses', `{"model":"demo","input":${many}}`],
    ['/v1/messages', `{"model":"demo","max_tokens":16,"messages":${many}}`],
    ['/v1/messages/count_tokens', `{"model":"demo","messages":${many}}`],
    // Lists inside a message, and the tools.
    ['/api/chat', `{"messages":[{"role":"user","content":${many}}]}`],
    ['/api/chat', `{"messages":[{"role":"user","content":"hi"}],"tools":${many}}`],
    ['/api/chat', `{"messages":[{"role":"user","content":"hi"}],"stop":${many}}`],
    ['/api/ui/chat', `{"id":"c","messages":[{"role":"user","parts":${many}}]}`],
    ['/v1/chat/completions', `{"model":"demo","messages":[{"role":"assistant","tool_calls":${many}}]}`],
    ['/v1/responses', `{"model":"demo","input":[{"role":"user","content":${many}}]}`],
    ['/v1/responses', `{"model":"demo","input":"hi","tools":${many}}`],
    ['/v1/messages', `{"model":"demo","max_tokens":16,"messages":[{"role":"user","content":${many}}]}`],
    ['/v1/messages', `{"model":"demo","max_tokens":16,"messages":[{"role":"user","content":"hi"}],"tools":${many}}`],
  ]
  for (const [path, body] of bodies) {
    it(`${path} ${body.slice(0, 60)}…: a 400 under 64 KB`, async () => {
      const response = await post(path, body, await env())
      const text = await response.text()
      expect(response.status, text.slice(0, 300)).toBe(400)
      expect(text.length).toBeLessThan(64 * 1024)
      const { error } = JSON.parse(text) as { error: { issues?: unknown[] } }
      expect(error.issues?.length ?? 1).toBeLessThanOrEqual(MAX_ISSUES)
    })
  }

  it('a refusal lists the first 20 issues only', async () => {
    const messages = Array.from({ length: 50 }, () => ({ role: 'user', content: 1 }))
    const response = await post('/api/chat', JSON.stringify({ messages }), await env())
    expect(response.status).toBe(400)
    const { error } = (await response.json()) as { error: { issues: Array<{ path: string }> } }
    expect(error.issues).toHaveLength(MAX_ISSUES)
    expect(error.issues[0]!.path).toBe('messages.0.content')
  })
})

describe('refusals count against the rate limit', () => {
  const bad: Array<[string, string]> = [
    ['/api/chat', '{"messages":[0]}'],
    ['/api/streams', '{"messages":[0]}'],
    ['/api/ui/chat', '{"id":"c","messages":[0]}'],
    ['/v1/chat/completions', '{"model":"demo","messages":[0]}'],
    ['/v1/responses', '{"model":"demo","input":[0]}'],
    ['/v1/messages', '{"model":"demo","max_tokens":16,"messages":[0]}'],
    ['/v1/messages/count_tokens', '{"model":"demo","messages":[0]}'],
  ]
  for (const [index, [path, body]] of bad.entries()) {
    it(`${path}: an anonymous flood of 400s gets 429 past the limit`, async () => {
      const limited = await env({ RATE_LIMIT_ANONYMOUS: bindings.RATE_LIMIT_ANONYMOUS })
      // An address of each test's own: the limit's count outlives a test, so a shared one would
      // find its limit already spent by another path's flood.
      const ip = `203.0.113.${index + 1}`
      const statuses = new Set<number>()
      let refused: Response | undefined
      for (let i = 0; i < 200 && !refused; i++) {
        const response = await post(path, body, limited, { 'CF-Connecting-IP': ip })
        if (response.status === 429) refused = response
        else {
          statuses.add(response.status)
          await response.body?.cancel()
        }
      }
      expect([...statuses]).toEqual([400])
      expect(refused, 'never refused').toBeDefined()
      expect(refused!.headers.get('Retry-After')).toBe('60')
    })
  }

  it('a request that starts an answer is counted once, not again at admission', async () => {
    const { calls, binding } = limiter()
    const counted = await env({ RATE_LIMIT_ANONYMOUS: binding, RATE_LIMIT: binding })
    const chat = JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] })
    for (const path of ['/api/chat', '/v1/chat/completions']) await (await post(path, chat, counted)).text()
    await (await post('/v1/responses', JSON.stringify({ model: 'demo', input: 'hi' }), counted, bearer)).text()
    expect(calls).toHaveLength(3)
  })
})

describe('item_reference', () => {
  const reference = (id: string) => ({ type: 'item_reference', id })
  /** Well formed, so only an object could say it names nothing. */
  const madeUp = `msg_${'a'.repeat(24)}_0`

  it('is resolved only after the request was counted: past the limit, 429 and no object is asked', async () => {
    const attachments = vi.spyOn(AnswerStream.prototype, 'attachment')
    const { binding } = limiter(1)
    const input = Array.from({ length: 50 }, () => reference(madeUp))
    const response = await post(
      '/v1/responses',
      JSON.stringify({ model: 'demo', input }),
      await env({ RATE_LIMIT: binding }),
      bearer,
    )
    expect(response.status).toBe(429)
    expect(await response.json()).toMatchObject({ error: { code: 'rate_limit_exceeded' } })
    expect(attachments).not.toHaveBeenCalled()
  })

  it('3,800 references: a 400 naming input, before any is resolved, and nothing sent upstream', async () => {
    const sent = upstream()
    const attachments = vi.spyOn(AnswerStream.prototype, 'attachment')
    const input = Array.from({ length: 3800 }, (_, i) => reference(`msg_${String(i).padStart(24, 'a')}_0`))
    const response = await post('/v1/responses', JSON.stringify({ model: 'gpt', input }), await env(), bearer)
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: { param: 'input', type: 'invalid_request_error' } })
    expect(attachments).not.toHaveBeenCalled()
    expect(sent).toHaveLength(0)
  })

  it('repeated, each item is resolved once; past the size of a body, a 413 in OpenAI’s shape, nothing sent', async () => {
    const testEnv = await env()
    const sent = upstream('x'.repeat(32_000))
    const first = (await (
      await post('/v1/responses', JSON.stringify({ model: 'gpt', input: 'long' }), testEnv, bearer)
    ).json()) as { output: Array<{ id: string }> }
    const attachments = vi.spyOn(AnswerStream.prototype, 'attachment')
    const input = [...Array.from({ length: 99 }, () => reference(first.output[0]!.id)), 'hi']
    const response = await post(
      '/v1/responses',
      JSON.stringify({
        model: 'gpt',
        input: input.map((item) => (item === 'hi' ? { role: 'user', content: 'hi' } : item)),
      }),
      testEnv,
      bearer,
    )
    expect(response.status).toBe(413)
    expect(await response.json()).toMatchObject({
      error: {
        code: 'conversation_too_large',
        type: 'invalid_request_error',
        param: expect.stringMatching(/^input\./),
      },
    })
    expect(attachments).toHaveBeenCalledTimes(1)
    expect(sent).toHaveLength(1) // the first response's, and nothing since
  })

  it('repeated within the bound: resolved once, and each stands in its place', async () => {
    const testEnv = await env()
    const sent = upstream()
    const first = (await (
      await post('/v1/responses', JSON.stringify({ model: 'gpt', input: 'Q' }), testEnv, bearer)
    ).json()) as { output: Array<{ id: string }> }
    const attachments = vi.spyOn(AnswerStream.prototype, 'attachment')
    const input = [
      ...Array.from({ length: 10 }, () => reference(first.output[0]!.id)),
      { role: 'user', content: 'again' },
    ]
    const response = await post('/v1/responses', JSON.stringify({ model: 'gpt', input }), testEnv, bearer)
    expect(response.status).toBe(200)
    await response.text()
    expect(attachments).toHaveBeenCalledTimes(1)
    expect(sent.at(-1)!.messages).toHaveLength(11)
  })
})

describe('the fuzz test’s finds, kept', () => {
  // `{"toString":1}` cannot be made a string: `String(value)` and `Object.hasOwn(o, value)` throw.
  const odd = { toString: 1 }
  const cases: Array<[string, unknown, string]> = [
    ['/v1/responses', { model: 'demo', input: [{ role: odd, content: 'hi' }] }, 'input.0.role'],
    ['/v1/responses', { model: 'demo', input: [{ type: odd }] }, 'input.0.type'],
    ['/v1/responses', { model: 'demo', input: [{ role: 'user', content: [{ type: odd }] }] }, 'input.0.content.0'],
    ['/v1/responses', { model: 'demo', input: 'hi', tools: [{ type: odd }] }, 'tools.0.type'],
    ['/v1/chat/completions', { model: 'demo', messages: [{ role: 'user', content: [{ type: odd }] }] }, 'messages.0'],
    [
      '/v1/messages',
      {
        model: 'demo',
        max_tokens: 16,
        messages: [
          { role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: odd, data: 'AA==' } }] },
        ],
      },
      'messages.0.content.0.source',
    ],
  ]
  for (const [path, body, param] of cases) {
    it(`${path} ${JSON.stringify(body).slice(0, 90)}: 400 naming ${param}, not 500`, async () => {
      const response = await post(path, JSON.stringify(body), await env())
      const text = await response.text()
      expect(response.status, text).toBe(400)
      expect(text).toContain(param)
    })
  }

  /** `{"a":{"a":…}}` 5,000 deep, as text: building it as a value and serialising it would recurse here. */
  const deep = '{"a":'.repeat(5000) + '{}' + '}'.repeat(5000)
  const deepBodies: Array<[string, string]> = [
    [
      '/api/chat',
      `{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${deep}}}]}`,
    ],
    [
      '/api/streams',
      `{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${deep}}}]}`,
    ],
    [
      '/v1/chat/completions',
      `{"model":"demo","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${deep}}}]}`,
    ],
    ['/v1/responses', `{"model":"demo","input":"hi","tools":[{"type":"function","name":"f","parameters":${deep}}]}`],
    [
      '/v1/messages',
      `{"model":"demo","max_tokens":16,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"f","input_schema":${deep}}]}`,
    ],
    [
      '/v1/messages/count_tokens',
      `{"model":"demo","messages":[{"role":"user","content":"hi"}],"tools":[{"name":"f","input_schema":${deep}}]}`,
    ],
    [
      '/api/ui/chat',
      `{"id":"c","messages":[{"role":"user","parts":[{"type":"text","text":"hi"}]}],"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":${deep}}}}`,
    ],
  ]
  for (const [path, body] of deepBodies) {
    it(`tool parameters 5,000 deep on ${path}: 400 naming the depth`, async () => {
      const response = await post(path, body, await env())
      const text = await response.text()
      expect(response.status, text.slice(0, 300)).toBe(400)
      expect(text).toContain(`deeper than ${MAX_JSON_DEPTH} levels`)
    })
  }
})
