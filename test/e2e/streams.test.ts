import { EventSource } from 'eventsource'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CuttingProxy } from './cutting-proxy'
import { readStream } from './sse-client'
import { TestUpstream, testModels } from './upstream-server'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * Resumable streams (`/api/streams`) under `wrangler dev`, with their Durable Objects, in front
 * of the loopback upstream, which counts the answers it finishes and those it is hung up on.
 */
let upstream: TestUpstream
let gateway: WranglerDev
let proxy: CuttingProxy
let proxyUrl: string

beforeAll(async () => {
  upstream = new TestUpstream()
  const upstreamUrl = await upstream.start()
  gateway = await startWranglerDev({
    DEFAULT_MODEL: 'upstream',
    MODELS: testModels(upstreamUrl),
    ANONYMOUS_MODELS: 'upstream, demo',
    HEARTBEAT_MS: '500',
    RETRY_MS: '100',
    UPSTREAM_HEADERS_TIMEOUT_MS: '4000',
  })
  proxy = new CuttingProxy(Number(new URL(gateway.url).port))
  proxyUrl = await proxy.start()
})

afterAll(async () => {
  proxy?.stop()
  await gateway?.stop()
  await upstream?.stop()
})

function create(content: string, headers: Record<string, string> = {}) {
  return fetch(`${gateway.url}/api/streams`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ messages: [{ role: 'user', content }] }),
  })
}

async function created(content: string): Promise<{ id: string; url: string }> {
  const response = await create(content)
  expect(response.status).toBe(201)
  return (await response.json()) as { id: string; url: string }
}

const dataOf = (event: { data: string }) => JSON.parse(event.data)

describe('resumable streams through wrangler dev', () => {
  it('the eventsource package reconnects by itself after a cut, and resumes with no gap and no repeat', async () => {
    const { id } = await created('gated')
    const source = new EventSource(`${proxyUrl}/api/streams/${id}`)
    const seen: Array<{ id: string; type: string; data: string }> = []
    const finished = new Promise<void>((resolve, reject) => {
      for (const type of ['start', 'delta', 'usage', 'done']) {
        source.addEventListener(type, (event) => {
          seen.push({ id: event.lastEventId, type, data: event.data })
          if (type === 'done') resolve()
        })
      }
      source.addEventListener('error', (event) => {
        if ('data' in event && event.data) reject(new Error(`error event: ${event.data}`))
      })
    })
    await expect.poll(() => seen.some((e) => e.type === 'delta')).toBe(true)
    const connectionsBefore = proxy.connections
    proxy.cutAll() // mid-answer: the upstream still holds the rest
    await expect.poll(() => proxy.connections).toBeGreaterThan(connectionsBefore)
    upstream.releaseGate()
    await finished
    source.close()
    expect(seen.map((e) => Number(e.id))).toEqual(seen.map((_, i) => i + 1))
    const text = seen.filter((e) => e.type === 'delta').map((e) => dataOf(e).text)
    expect(text.join('')).toBe('First and the rest.')
  })

  it('when every reader leaves, the answer is not cancelled: it completes and a later GET replays it whole', async () => {
    const abandoned = upstream.abandonedAnswers
    const { url } = await created('gated')
    const reading = readStream(await fetch(url))
    await reading.nextEvent((e) => e.event === 'delta')
    await reading.cancel()
    upstream.releaseGate()
    await upstream.until(() => upstream.openAnswers === 0)
    expect(upstream.abandonedAnswers).toBe(abandoned)
    const replay = await readStream(await fetch(url)).rest()
    expect(replay.map((e) => e.event)).toEqual(['start', 'delta', 'delta', 'usage', 'done'])
    expect(replay.filter((e) => e.event === 'delta').map((e) => dataOf(e).text)).toEqual(['First', ' and the rest.'])
  })

  it('DELETE closes the upstream connection, and readers get a terminal cancelled error', async () => {
    const abandoned = upstream.abandonedAnswers
    const { url } = await created('stall')
    const reading = readStream(await fetch(url))
    await reading.nextEvent((e) => e.event === 'delta')
    expect((await fetch(url, { method: 'DELETE' })).status).toBe(204)
    await upstream.until(() => upstream.abandonedAnswers > abandoned && upstream.openAnswers === 0)
    const rest = await reading.rest()
    expect(rest.at(-1)).toMatchObject({ event: 'error' })
    expect(dataOf(rest.at(-1)!)).toMatchObject({ code: 'cancelled', retryable: false })
  })

  it('POST with Accept: text/event-stream is one round trip: the stream, and Location to come back to', async () => {
    const response = await create('hello', { Accept: 'text/event-stream' })
    expect(response.status).toBe(200)
    expect(response.headers.get('Content-Type')).toBe('text/event-stream; charset=utf-8')
    const location = response.headers.get('Location')!
    expect(location).toMatch(/\/api\/streams\/[A-Za-z0-9_-]{24}$/)
    const events = await readStream(response).rest()
    expect(events.at(-1)!.event).toBe('done')
    // Done: a reader that has the terminal event gets 204, which stops an EventSource.
    const again = await fetch(location, { headers: { 'Last-Event-ID': events.at(-1)!.id! } })
    expect(again.status).toBe(204)
  })

  it('a refusal before the answer starts is a plain HTTP error with its status: 429 with Retry-After', async () => {
    const response = await create('status:429')
    expect(response.status).toBe(429)
    expect(response.headers.get('Retry-After')).toBe('12')
    expect(await response.json()).toMatchObject({ error: { code: 'upstream_rate_limited' } })
  })

  it('404 with a JSON body for an unknown id', async () => {
    const response = await fetch(`${gateway.url}/api/streams/AAAAAAAAAAAAAAAAAAAAAAAA`)
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ error: { code: 'stream_not_found' } })
  })
})
