import { readFileSync, readdirSync } from 'node:fs'
import { EventSource } from 'eventsource'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readStream } from './sse-client'
import { TestUpstream, testModels } from './upstream-server'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * The real Worker under `wrangler dev` (workerd, behind wrangler's proxy), in front of a real
 * HTTP upstream on 127.0.0.1. No timing assertions: where order matters, the upstream is gated.
 */
const HEARTBEAT_MS = 1000
const UPSTREAM_KEY = 'sk-test-e2e-0123456789abcdef'

let upstream: TestUpstream
let upstreamUrl: string
let gateway: WranglerDev

beforeAll(async () => {
  upstream = new TestUpstream()
  upstreamUrl = await upstream.start()
  gateway = await startWranglerDev(
    {
      DEFAULT_MODEL: 'upstream',
      MODELS: testModels(upstreamUrl, 'UPSTREAM_KEY'),
      // Not a demo model, so not anonymous by default: these tests call it without credentials.
      ANONYMOUS_MODELS: 'upstream, demo',
      HEARTBEAT_MS: String(HEARTBEAT_MS),
      UPSTREAM_HEADERS_TIMEOUT_MS: '4000',
      MAX_BODY_BYTES: '4096',
    },
    { UPSTREAM_KEY },
  )
})

afterAll(async () => {
  await gateway?.stop()
  await upstream?.stop()
})

function chat(content: string, init: RequestInit = {}, extra: object = {}) {
  return fetch(`${gateway.url}/api/chat`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content }], ...extra }),
    ...init,
  })
}

const dataOf = (event: { data: string } | null) => JSON.parse(event!.data)

/** Reads a whole answer and checks the contract: start first, exactly one terminal event, last. */
async function wholeAnswer(response: Response) {
  expect(response.status).toBe(200)
  const events = await readStream(response).rest()
  const names = events.map((e) => e.event)
  expect(names[0]).toBe('start')
  expect(names.filter((n) => n === 'done' || n === 'error')).toHaveLength(1)
  expect(['done', 'error']).toContain(names.at(-1))
  expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1))
  const text = events
    .filter((e) => e.event === 'delta')
    .map((e) => JSON.parse(e.data).text)
    .join('')
  return { events, names, text, last: { event: events.at(-1)!.event, data: JSON.parse(events.at(-1)!.data) } }
}

describe('streaming from a real upstream through wrangler dev', () => {
  const recordings = new URL('../fixtures/upstream/openai-chat/', import.meta.url)
  for (const name of readdirSync(recordings)) {
    it(`replays ${name} as the same text, usage and finish reason`, async () => {
      const recording = readFileSync(new URL(name, recordings), 'utf8')
      const chunks = recording
        .split('\n')
        .filter((l) => l.startsWith('data: {'))
        .map((l) => JSON.parse(l.slice(6)))
      const expectedText = chunks
        .map((c) => c.choices[0]?.delta?.content ?? c.choices[0]?.delta?.refusal ?? '')
        .join('')
      const answer = await wholeAnswer(await chat(`replay:${name}`))
      expect(answer.text).toBe(expectedText)
      expect(answer.last).toEqual({ event: 'done', data: { finish_reason: 'stop' } })
      expect(answer.names.at(-2)).toBe('usage')
    })
  }

  it('sends the upstream an OpenAI streaming request with the secret key, and never shows the key or URL', async () => {
    const response = await chat('hello', {}, { temperature: 0.5, max_tokens: 20 })
    const answer = await wholeAnswer(response)
    const request = upstream.requests.at(-1)!
    expect(request.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`)
    expect(request.body).toMatchObject({
      model: 'test-model',
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.5,
      max_tokens: 20,
    })
    const everything = JSON.stringify(answer.events) + gateway.logs()
    expect(everything).not.toContain(UPSTREAM_KEY)
    // One structured line per answer, with its usage, and nothing that was said.
    await expect
      .poll(() => gateway.logs())
      .toMatch(/"msg":"answer ended".*"gen_ai.usage.output_tokens":3.*"outcome":"done"/)
    expect(gateway.logs()).not.toContain('echo: hello')
    expect(JSON.stringify(answer.events)).not.toContain(upstreamUrl)
  })

  it('delivers the first delta while the upstream still holds the rest', async () => {
    const stream = readStream(await chat('gated'))
    expect(dataOf(await stream.nextEvent((e) => e.event === 'delta'))).toEqual({ text: 'First' })
    // Only now may the upstream go on: had the gateway buffered, the line above would never return.
    upstream.releaseGate()
    expect(dataOf(await stream.nextEvent((e) => e.event === 'delta'))).toEqual({ text: ' and the rest.' })
    expect((await stream.nextEvent((e) => e.event === 'done'))?.event).toBe('done')
  })

  it('works for a real SSE client (the eventsource package), ids and all', async () => {
    const received: Array<{ type: string; id: string }> = []
    const source = new EventSource(`${gateway.url}/api/chat`, {
      fetch: (url, init) =>
        fetch(url, {
          ...init,
          method: 'POST',
          headers: { ...init.headers, 'Content-Type': 'application/json' },
          body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi from EventSource' }] }),
        }),
    })
    const finished = new Promise<string>((resolve, reject) => {
      for (const type of ['start', 'delta', 'usage']) {
        source.addEventListener(type, (e) => received.push({ type, id: e.lastEventId }))
      }
      source.addEventListener('done', (e) => {
        received.push({ type: 'done', id: e.lastEventId })
        source.close() // a finished answer must not be fetched again
        resolve(e.data)
      })
      source.addEventListener('error', (e) => reject(new Error(`EventSource error: ${e.message}`)))
    })
    expect(JSON.parse(await finished)).toEqual({ finish_reason: 'stop' })
    expect(received[0]!.type).toBe('start')
    expect(received.filter((e) => e.type === 'delta').length).toBeGreaterThan(10)
    expect(received.map((e) => Number(e.id))).toEqual(received.map((_, i) => i + 1))
  })

  it('sends heartbeats while the upstream is silent', async () => {
    const controller = new AbortController()
    try {
      const stream = readStream(await chat('stall', { signal: controller.signal }))
      expect(dataOf(await stream.nextEvent((e) => e.event === 'delta'))).toEqual({ text: 'Thinking' })
      expect(await stream.nextComment()).toBe('ping')
      expect(await stream.nextComment()).toBe('ping')
      expect(stream.events.map((e) => e.event)).toEqual(['start', 'delta'])
    } finally {
      controller.abort()
    }
  })
})

describe('reasoning, tool calls and images through wrangler dev', () => {
  it('streams reasoning events before the text, and reasoning tokens in usage', async () => {
    const answer = await wholeAnswer(await chat('reasoning'))
    expect(answer.events.slice(1).map((e) => ({ event: e.event, data: JSON.parse(e.data) }))).toEqual([
      { event: 'reasoning', data: { text: 'The user wants a number.' } },
      { event: 'reasoning', data: { text: ' Six times seven is 42.' } },
      { event: 'delta', data: { text: '42' } },
      { event: 'usage', data: { prompt_tokens: 5, completion_tokens: 20, total_tokens: 25, reasoning_tokens: 17 } },
      { event: 'done', data: { finish_reason: 'stop' } },
    ])
  })

  it('streams tool_call events, id and name first, and done with tool_calls', async () => {
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }]
    const answer = await wholeAnswer(await chat('tools', {}, { tools }))
    const calls = answer.events.filter((e) => e.event === 'tool_call').map((e) => JSON.parse(e.data))
    expect(calls).toEqual([
      { index: 0, id: 'call_paris', name: 'get_weather', arguments_delta: '' },
      { index: 0, arguments_delta: '{"city":' },
      { index: 0, arguments_delta: ' "Paris"}' },
      { index: 1, id: 'call_rome', name: 'get_weather', arguments_delta: '' },
      { index: 1, arguments_delta: '{"city": "Rome"}' },
    ])
    expect(answer.last).toEqual({ event: 'done', data: { finish_reason: 'tool_calls' } })
  })

  it('sends an image part to the upstream as it came', async () => {
    const image = { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' } }
    const content = [{ type: 'text', text: 'What is this?' }, image]
    const response = await fetch(`${gateway.url}/api/chat`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content }] }),
    })
    await wholeAnswer(response)
    expect(upstream.requests.at(-1)!.body.messages).toEqual([{ role: 'user', content }])
  })
})

describe('a client that leaves', () => {
  it('closes the upstream connection of a stalled answer', async () => {
    const abandoned = upstream.abandonedAnswers
    const controller = new AbortController()
    const stream = readStream(await chat('stall', { signal: controller.signal }))
    await stream.nextEvent((e) => e.event === 'delta')
    expect(upstream.openAnswers).toBeGreaterThan(0)
    const left = Date.now()
    controller.abort()
    await upstream.until(() => upstream.openAnswers === 0 && upstream.abandonedAnswers > abandoned)
    await expect.poll(() => gateway.logs()).toMatch(/"partial":true.*"outcome":"cancelled"/)
    // Reported, not asserted: the target is one heartbeat plus 1 s.
    console.log(`upstream closed ${Date.now() - left} ms after the client left (heartbeat ${HEARTBEAT_MS} ms)`)
  })

  it('releases the upstream request at the header timeout at the latest when it leaves before headers', async () => {
    // In production, request.signal (the enable_request_signal flag) abandons the upstream at
    // once. Local wrangler dev never fires request.signal for a client that leaves before the
    // response, so here the header timeout is what bounds it: it must still never leak.
    const abandoned = upstream.abandonedAnswers
    const controller = new AbortController()
    const pending = chat('no-headers', { signal: controller.signal }).catch(() => 'aborted')
    await upstream.until(
      () => upstream.requests.at(-1)?.body.messages[0]?.content === 'no-headers' && upstream.openAnswers > 0,
    )
    controller.abort()
    expect(await pending).toBe('aborted')
    await upstream.until(() => upstream.openAnswers === 0 && upstream.abandonedAnswers > abandoned)
  })
})

describe('an upstream that fails mid-answer', () => {
  it.each([
    ['reset', 'Half an ans', 'upstream_connection_lost'],
    ['truncate', 'Cut short', 'upstream_truncated'],
    ['malformed', 'Fine so far', 'upstream_malformed'],
  ])('%s: the text so far, then a terminal error, never done', async (scenario, text, code) => {
    const answer = await wholeAnswer(await chat(scenario))
    expect(answer.text).toBe(text)
    expect(answer.last).toMatchObject({ event: 'error', data: { code, retryable: true } })
    expect(answer.names).not.toContain('done')
  })
})

describe('refusals over real HTTP', () => {
  async function expectError(response: Response, status: number, code: string) {
    expect(response.status).toBe(status)
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    const body = (await response.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe(code)
    expect(body.error.message).not.toContain(upstreamUrl)
    return body.error
  }
  const post = (body: BodyInit, headers: Record<string, string> = { 'Content-Type': 'application/json' }) =>
    fetch(`${gateway.url}/api/chat`, { method: 'POST', headers, body })

  it('400 malformed JSON, schema violation, unknown model', async () => {
    await expectError(await post('{"messages":'), 400, 'invalid_json')
    await expectError(await post(JSON.stringify({ messages: [], extra: 1 })), 400, 'invalid_request')
    await expectError(await chat('hi', {}, { model: 'nope' }), 400, 'unknown_model')
  })

  it('415 non-JSON, 413 too large, 405 wrong method, 404 unknown route', async () => {
    await expectError(await post('hi', { 'Content-Type': 'text/plain' }), 415, 'unsupported_media_type')
    await expectError(await chat('x'.repeat(5000)), 413, 'payload_too_large')
    await expectError(await fetch(`${gateway.url}/api/chat`), 405, 'method_not_allowed')
    await expectError(await fetch(`${gateway.url}/nowhere`), 404, 'not_found')
  })

  it('429 from the upstream passes on with Retry-After', async () => {
    const response = await chat('status:429')
    expect(response.headers.get('retry-after')).toBe('12')
    await expectError(response, 429, 'upstream_rate_limited')
  })

  it('upstream 400 → 400, 401 → 502 without its words, 500 → 502, 503 → 503, non-stream → 502', async () => {
    expect((await expectError(await chat('status:400'), 400, 'upstream_rejected_request')).message).toBe(
      'The model provider rejected the request: upstream says 400',
    )
    expect((await expectError(await chat('status:401'), 502, 'upstream_auth_failed')).message).not.toContain(
      'upstream says',
    )
    await expectError(await chat('status:500'), 502, 'upstream_error')
    await expectError(await chat('status:503'), 503, 'upstream_unavailable')
    await expectError(await chat('html'), 502, 'upstream_invalid_response')
  })

  it('an upstream that sends no headers in time: the answer began with a heartbeat, so upstream_timeout ends it as an error event; the upstream is let go', async () => {
    // Every attempt waits UPSTREAM_HEADERS_TIMEOUT_MS, far past HEARTBEAT_MS: the response has
    // started (issue 26, the first heartbeat), so the refusal can no longer be a 504.
    const response = await chat('no-headers')
    expect(response.status).toBe(200)
    const body = await response.text()
    expect(body.startsWith(':')).toBe(true)
    expect(body).toContain('event: error')
    expect(body).not.toContain('event: done')
    expect(body).toContain('"code":"upstream_timeout"')
    expect(body).not.toContain(upstreamUrl)
    await upstream.until(() => upstream.openAnswers === 0)
  })
})
