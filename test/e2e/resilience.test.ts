import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readStream } from './sse-client'
import { CUT_ANSWER, CUT_AT, TestUpstream } from './upstream-server'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * Retries, key pools and circuit breaking (issue 26), through the real Worker under `wrangler dev`
 * in front of an upstream on 127.0.0.1 that misbehaves on purpose. Each test checks what the
 * upstream received as well as what the client saw: a retry the client cannot see is only proven
 * by the requests that reached the upstream.
 */
const KEY_A = 'sk-test-pool-a-0123456789'
const KEY_B = 'sk-test-pool-b-0123456789'
const COOLDOWN_MS = 3000

let upstream: TestUpstream
let gateway: WranglerDev

beforeAll(async () => {
  upstream = new TestUpstream()
  const url = await upstream.start()
  const openai = { adapter: 'openai', base_url: url, upstream_model: 'test-model' }
  gateway = await startWranglerDev(
    {
      DEFAULT_MODEL: 'upstream',
      MODELS: JSON.stringify({
        upstream: { ...openai, api_key_secret: 'KEY_A' },
        pooled: { ...openai, api_key_secret: 'KEY_A', api_key_secrets: ['KEY_B'] },
        fragile: {
          ...openai,
          api_key_secret: 'KEY_A',
          retries: 0,
          circuit_breaker: { failures: 5, cooldown_ms: COOLDOWN_MS },
          fallbacks: ['demo'],
        },
        continuing: { ...openai, api_key_secret: 'KEY_A', continue_on_failure: true },
        'claude-continuing': {
          adapter: 'anthropic',
          base_url: url,
          upstream_model: 'claude-upstream',
          api_key_secret: 'KEY_A',
          continue_on_failure: true,
        },
        demo: { adapter: 'demo', token_delay_ms: 1 },
      }),
      ANONYMOUS_MODELS: 'upstream, pooled, fragile, continuing, claude-continuing, demo',
      UPSTREAM_HEADERS_TIMEOUT_MS: '4000',
      // A stalled upstream counts as dead after this long: the stall test waits it out.
      UPSTREAM_IDLE_TIMEOUT_MS: '1500',
    },
    { KEY_A, KEY_B },
  )
})

afterAll(async () => {
  await gateway?.stop()
  await upstream?.stop()
})

function chat(content: string, model = 'upstream') {
  return fetch(`${gateway.url}/api/chat`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content }] }),
  })
}

/** The requests the upstream received whose last message was `content`. */
function received(content: string) {
  return upstream.requests.filter((r) => r.body.messages.at(-1)?.content === content)
}

/** One answer as the client sees it: one stream, one start, its text, one terminal event. */
async function answer(response: Response) {
  expect(response.status).toBe(200)
  const events = await readStream(response).rest()
  const names = events.map((e) => e.event)
  expect(names.filter((n) => n === 'start')).toHaveLength(1)
  expect(names.filter((n) => n === 'done' || n === 'error')).toEqual(['done'])
  const text = events
    .filter((e) => e.event === 'delta')
    .map((e) => JSON.parse(e.data).text)
    .join('')
  const start = JSON.parse(events[0]!.data) as { upstream: string }
  return { text, upstream: start.upstream, attempts: response.headers.get('X-Gateway-Attempts') }
}

/** A message's text, as a string or in parts (Anthropic's blocks). */
const textOf = (content: string | Array<{ type: string; text?: string }>) =>
  typeof content === 'string' ? content : content.map((part) => (part.type === 'text' ? part.text : '')).join('')

/** A message no other test sends, so each test counts only its own requests. */
let serial = 0
const unique = (scenario: string) => `${scenario} #${++serial}`

describe('retries before the first event', () => {
  it('waits out a 429’s Retry-After, then answers from the second attempt', async () => {
    const message = unique('flaky:429:1')
    const { text, attempts } = await answer(await chat(message))
    expect(text).toBe(`echo: ${message}`)
    expect(attempts).toBe('2')
    const [first, second, ...more] = received(message)
    expect(more).toHaveLength(0)
    // Retry-After: 1 is honoured (not a speed check: the gateway must not come back sooner).
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900)
  })

  it('retries two 500s and answers from the third attempt, saying so in its log line', async () => {
    const message = unique('flaky:500:2')
    const { text, attempts } = await answer(await chat(message))
    expect(text).toBe(`echo: ${message}`)
    expect(attempts).toBe('3')
    expect(received(message)).toHaveLength(3)
    await expect.poll(() => gateway.logs()).toMatch(/"msg":"answer ended".*"attempts":3/)
  })

  it('retries a connection reset before the first byte', async () => {
    const message = unique('flaky:reset:1')
    const { text, attempts } = await answer(await chat(message))
    expect(text).toBe(`echo: ${message}`)
    expect(attempts).toBe('2')
    expect(received(message)).toHaveLength(2)
  })

  it('retries an upstream that sends its headers, then ends before its first event', async () => {
    const message = unique('flaky:empty:1')
    const { text, attempts } = await answer(await chat(message))
    expect(text).toBe(`echo: ${message}`)
    expect(attempts).toBe('2')
    expect(received(message)).toHaveLength(2)
  })

  it('never retries a 400: the request itself is wrong', async () => {
    const message = unique('status:400')
    const response = await chat(message)
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: { code: 'upstream_rejected_request', retryable: false } })
    expect(received(message)).toHaveLength(1)
  })
})

describe('a key pool', () => {
  it('rests a key that answered 429 while the other serves', async () => {
    const message = `key-429:${KEY_A}`
    for (let i = 0; i < 3; i++) expect((await answer(await chat(message, 'pooled'))).text).toBe(`echo: ${message}`)
    const keys = received(message).map((r) => r.headers.authorization)
    // One 429 to key A, which then rests (Retry-After: 30), and every answer from key B.
    expect(keys.filter((k) => k === `Bearer ${KEY_A}`)).toHaveLength(1)
    expect(keys.filter((k) => k === `Bearer ${KEY_B}`)).toHaveLength(3)
    expect(keys.indexOf(`Bearer ${KEY_A}`)).toBe(0)
    // The first answer's log line: two attempts, served by the pool's second key (its name, never the key).
    await expect.poll(() => gateway.logs()).toMatch(/"msg":"answer ended".*"attempts":2,"key":"KEY_B"/)
    expect(gateway.logs()).not.toContain(KEY_B)
  })
})

describe('circuit breaking', () => {
  it('after five failures in a row skips the upstream until the cooldown ends, then tries it again', async () => {
    const failing = unique('status:500')
    for (let i = 0; i < 5; i++) {
      // Each failure falls back to the demo model: the caller is served, the upstream counted down.
      expect((await answer(await chat(failing, 'fragile'))).upstream).toBe('demo')
    }
    expect(received(failing)).toHaveLength(5)

    const skipped = unique('hello while open')
    const whileOpen = await answer(await chat(skipped, 'fragile'))
    expect(whileOpen.upstream).toBe('demo')
    expect(received(skipped)).toHaveLength(0)

    await new Promise((resolve) => setTimeout(resolve, COOLDOWN_MS + 200))
    const trial = unique('hello after the cooldown')
    const afterCooldown = await answer(await chat(trial, 'fragile'))
    expect(afterCooldown).toMatchObject({ upstream: 'fragile', text: `echo: ${trial}`, attempts: '1' })
    expect(received(trial)).toHaveLength(1)
  })
})

describe('continuing an answer whose upstream died mid-stream (continue_on_failure)', () => {
  /** The requests the upstream received for the conversation whose user message was `content`. */
  const asked = (content: string) =>
    upstream.requests.filter((r) => r.body.messages.some((m) => m.role === 'user' && textOf(m.content) === content))

  /** The second request continues the first: the same conversation, the partial answer as the assistant's. */
  function expectContinued(message: string) {
    const [first, second, ...more] = asked(message)
    expect(more).toHaveLength(0)
    expect(first!.body.messages).toEqual([{ role: 'user', content: message }])
    // Sent without its trailing space (a prefill may not end in whitespace); the space is not repeated.
    expect(second!.body.messages).toEqual([
      { role: 'user', content: message },
      { role: 'assistant', content: CUT_ANSWER.slice(0, CUT_AT).trimEnd() },
    ])
  }

  for (const how of ['reset', 'truncate', 'malformed', 'stall']) {
    it(`/api/chat: after a ${how}, the client gets the whole text once and one done`, async () => {
      const message = unique(`cut:${how}`)
      const { text, attempts } = await answer(await chat(message, 'continuing'))
      expect(text).toBe(CUT_ANSWER)
      expect(attempts).toBe('1') // the header went out before the cut
      expectContinued(message)
    })
  }

  it('says so in the answer’s log line: two attempts, continued once, by which model and key', async () => {
    const message = unique('cut:reset')
    await answer(await chat(message, 'continuing'))
    await expect
      .poll(() => gateway.logs())
      .toMatch(
        /"msg":"answer ended".*"attempts":2,"key":"KEY_A","continued":1,"continuedBy":\[\{"model":"continuing","key":"KEY_A"\}\]/,
      )
  })

  it('without the setting the answer still ends in error', async () => {
    const message = unique('cut:reset')
    const events = await readStream(await chat(message)).rest()
    expect(events.map((e) => e.event).filter((n) => n === 'done' || n === 'error')).toEqual(['error'])
    expect(asked(message)).toHaveLength(1)
  })

  it('/api/streams: a reader that leaves before the cut and comes back after gets every id once, in order', async () => {
    const message = unique('cut:truncate')
    const created = await fetch(`${gateway.url}/api/streams`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'continuing', messages: [{ role: 'user', content: message }] }),
    })
    expect(created.status).toBe(201)
    expect(created.headers.get('X-Gateway-Attempts')).toBe('1')
    const { url } = (await created.json()) as { url: string }
    const first = readStream(await fetch(url))
    const seen = [await first.nextEvent(), await first.nextEvent((e) => e.event === 'delta')]
    await first.cancel()
    // Back once the continuation has been asked for: the cut happened while nobody read.
    await expect.poll(() => asked(message).length, { timeout: 5000 }).toBe(2)
    const again = await fetch(url, { headers: { 'Last-Event-ID': seen.at(-1)!.id! } })
    const rest = await readStream(again).rest()
    const all = [...seen, ...rest].filter((e) => e !== null)
    const ids = all.map((e) => Number(e.id))
    expect(ids).toEqual(ids.map((_, i) => ids[0]! + i))
    expect(all.filter((e) => e.event === 'done' || e.event === 'error').map((e) => e.event)).toEqual(['done'])
    const text = all.filter((e) => e.event === 'delta').map((e) => JSON.parse(e.data).text)
    expect(text.join('')).toBe(CUT_ANSWER)
    expectContinued(message)
  })

  it('/v1/chat/completions: one stream of chunks with the whole text, one finish and one [DONE]', async () => {
    const message = unique('cut:reset')
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'continuing', stream: true, messages: [{ role: 'user', content: message }] }),
    })
    expect(response.status).toBe(200)
    const events = await readStream(response).rest()
    expect(events.filter((e) => e.data === '[DONE]')).toHaveLength(1)
    const chunks = events.filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data))
    expect(chunks.some((c) => c.error)).toBe(false)
    const text = chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('')
    expect(text).toBe(CUT_ANSWER)
    expect(chunks.filter((c) => c.choices?.[0]?.finish_reason).map((c) => c.choices[0].finish_reason)).toEqual(['stop'])
    expectContinued(message)
  })

  it('/v1/messages: the whole text in its content blocks, and one message_stop', async () => {
    const message = unique('cut:malformed')
    const response = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        model: 'continuing',
        max_tokens: 200,
        stream: true,
        messages: [{ role: 'user', content: message }],
      }),
    })
    expect(response.status).toBe(200)
    const events = await readStream(response).rest()
    const names = events.map((e) => e.event)
    expect(names.filter((n) => n === 'message_stop')).toHaveLength(1)
    expect(names).not.toContain('error')
    const text = events
      .filter((e) => e.event === 'content_block_delta')
      .map((e) => JSON.parse(e.data).delta.text ?? '')
      .join('')
    expect(text).toBe(CUT_ANSWER)
    expectContinued(message)
  })

  it('an Anthropic upstream is sent the partial answer as its prefill, and continues it', async () => {
    const message = unique('cut:overloaded')
    const { text } = await answer(await chat(message, 'claude-continuing'))
    expect(text).toBe(CUT_ANSWER)
    const [first, second, ...more] = asked(message)
    expect(more).toHaveLength(0)
    expect(first!.body.messages).toHaveLength(1)
    const prefill = second!.body.messages.at(-1)!
    expect(prefill.role).toBe('assistant')
    expect(textOf(prefill.content)).toBe(CUT_ANSWER.slice(0, CUT_AT).trimEnd())
  })

  it('a whole answer (stream: false) is continued like a stream', async () => {
    const message = unique('cut:truncate')
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'continuing', messages: [{ role: 'user', content: message }] }),
    })
    expect(response.status).toBe(200)
    const body = (await response.json()) as { choices: Array<{ message: { content: string }; finish_reason: string }> }
    expect(body.choices[0]).toMatchObject({ message: { content: CUT_ANSWER }, finish_reason: 'stop' })
    expectContinued(message)
  })

  it('a whole answer (stream: false) is retried like a stream', async () => {
    const message = unique('flaky:500:1')
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'upstream', messages: [{ role: 'user', content: message }] }),
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('X-Gateway-Attempts')).toBe('2')
    expect(
      ((await response.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content,
    ).toBe(`echo: ${message}`)
  })
})
