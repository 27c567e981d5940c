import { describe, expect, it } from 'vitest'
import { demoReply } from '../../src/providers/demo/reply'
import { eventsOf, parseEventStream } from '../helpers/sse'
import { readStream } from './helpers'
import { BASE, call, create, created, hello, read, streamEnv, textOf, wholeStream } from './helpers'

async function errorOf(response: Response) {
  expect(response.headers.get('Content-Type')).toMatch(/^application\/json/)
  return ((await response.json()) as { error: { code: string; message: string; issues?: unknown[] } }).error
}

describe('POST /api/streams', () => {
  it('answers 201 with the id, its URL (also as Location) and when it expires', async () => {
    const before = Date.now()
    const response = await create()
    expect(response.status).toBe(201)
    const body = (await response.json()) as { id: string; url: string; expires_at: string }
    expect(body.id).toMatch(/^[A-Za-z0-9_-]{24}$/)
    expect(body.url).toBe(`${BASE}/api/streams/${body.id}`)
    expect(response.headers.get('Location')).toBe(body.url)
    // The deadline plus the retention, from the answer's start.
    expect(Date.parse(body.expires_at)).toBeGreaterThanOrEqual(before + 1_800_000 + 3_600_000 - 1000)
  })

  it('with Accept: text/event-stream, the response is the stream, and Location names it', async () => {
    const response = await create(hello, { Accept: 'text/event-stream' })
    expect(response.status).toBe(200)
    expect(response.headers.get('Content-Type')).toBe('text/event-stream; charset=utf-8')
    expect(response.headers.get('Cache-Control')).toBe('no-cache, no-transform')
    const location = response.headers.get('Location')!
    const id = location.split('/').pop()!
    const parsed = parseEventStream(await response.text())
    expect(parsed.retry).toBe(0)
    const events = parsed.events.map((e) => ({ ...e, data: JSON.parse(e.data) }))
    expect(events[0]).toMatchObject({ event: 'start', id: '1', data: { id, model: 'demo', upstream: 'demo' } })
    expect(events.map((e) => e.data.text ?? '').join('')).toBe(demoReply(hello.messages as never))
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { finish_reason: 'stop' } })
  })

  it('ids are unguessable: 144 random bits, never the same twice', async () => {
    const ids = new Set(await Promise.all(Array.from({ length: 20 }, () => created())))
    expect(ids.size).toBe(20)
  })

  it('refuses before any stream exists, with the same statuses as /api/chat', async () => {
    expect(await errorOf(await create({ ...hello, model: 'gpt-17' }))).toMatchObject({ code: 'unknown_model' })
    expect(await errorOf(await create({ messages: [] }))).toMatchObject({ code: 'invalid_request' })
    const unreachable = await create({ ...hello, model: 'unreachable' })
    expect(unreachable.status).toBe(502)
    expect(await errorOf(unreachable)).toMatchObject({ code: 'upstream_unavailable', retryable: true })
    const text = await call('/api/streams', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'hi' })
    expect(text.status).toBe(415)
    const bad = await call('/api/streams', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{',
    })
    expect(await errorOf(bad)).toMatchObject({ code: 'invalid_json' })
  })

  it('405 with Allow for other methods', async () => {
    const response = await call('/api/streams', { method: 'GET' })
    expect(response.status).toBe(405)
    expect(response.headers.get('Allow')).toBe('POST')
    const one = await call(`/api/streams/${await created()}`, { method: 'PUT' })
    expect(one.status).toBe(405)
    expect(one.headers.get('Allow')).toBe('GET, DELETE')
  })
})

describe('GET /api/streams/:id', () => {
  it('replays from every event id: exactly the events after it, then 204 after the terminal one', async () => {
    const id = await created()
    const all = await wholeStream(id)
    expect(all.map((e) => Number(e.id))).toEqual(all.map((_, i) => i + 1))
    expect(textOf(all)).toBe(demoReply(hello.messages as never))
    expect(all.at(-1)!.event).toBe('done')
    for (let last = 0; last < all.length; last++) {
      const response = await read(id, last)
      expect(response.status).toBe(200)
      expect(eventsOf(await response.text())).toEqual(all.slice(last))
    }
    const finished = await read(id, all.length)
    expect(finished.status).toBe(204)
    expect(await finished.text()).toBe('')
  })

  it('takes ?last_event_id= from clients that cannot set headers; the header wins', async () => {
    const id = await created()
    const byQuery = await call(`/api/streams/${id}?last_event_id=3`)
    expect(Number(eventsOf(await byQuery.text())[0]!.id)).toBe(4)
    const both = await call(`/api/streams/${id}?last_event_id=3`, { headers: { 'Last-Event-ID': '5' } })
    expect(Number(eventsOf(await both.text())[0]!.id)).toBe(6)
  })

  it('404 with the same JSON body for an unknown, a malformed and an empty id', async () => {
    for (const path of ['/api/streams/AAAAAAAAAAAAAAAAAAAAAAAA', '/api/streams/nope', '/api/streams/..%2F..%2Fx']) {
      const response = await call(path)
      expect(response.status).toBe(404)
      expect(await errorOf(response)).toMatchObject({ code: 'stream_not_found', retryable: false })
    }
  })

  it('400 for a last event id that is not a number, or past the end of a running stream', async () => {
    const id = await created({ ...hello, model: 'silent' })
    const bad = await call(`/api/streams/${id}`, { headers: { 'Last-Event-ID': 'abc' } })
    expect(bad.status).toBe(400)
    expect(await errorOf(bad)).toMatchObject({ code: 'invalid_request', issues: [{ path: 'Last-Event-ID' }] })
    const future = await read(id, 500)
    expect(future.status).toBe(400)
    await call(`/api/streams/${id}`, { method: 'DELETE' })
  })

  // The demo answer is a few hundred paced tokens (Markdown with a table and a code block).
  it(
    'several readers at once each receive every event once, in order, with the same ids',
    { timeout: 20_000 },
    async () => {
      const env = streamEnv()
      const long = { messages: [{ role: 'user', content: 'word '.repeat(60) }] }
      const response = await create({ ...long, model: 'paced' }, {}, env)
      const { id } = (await response.json()) as { id: string }
      const [a, b] = await Promise.all([read(id, undefined, env), read(id, undefined, env)])
      // A third joins mid-answer, once there are ten events to skip.
      const first = readStream(a!)
      while (first.events.length < 10) await first.more()
      const c = await read(id, 10, env)
      const [ea, eb, ec] = await Promise.all([first.rest(), b!.text(), c.text()].map(async (t) => eventsOf(await t)))
      expect(ea).toEqual(eb)
      expect(ec).toEqual(ea!.slice(10))
      expect(textOf(ea!)).toBe(demoReply(long.messages as never, 'paced'))
      expect(ea!.filter((e) => e.event === 'done' || e.event === 'error')).toHaveLength(1)
    },
  )
})

describe('DELETE /api/streams/:id', () => {
  it('stops a running answer: readers get a cancelled error, later readers replay it, DELETE again is 204', async () => {
    const id = await created({ ...hello, model: 'silent' })
    const live = await read(id)
    const stopped = await call(`/api/streams/${id}`, { method: 'DELETE' })
    expect(stopped.status).toBe(204)
    const seen = eventsOf(await live.text())
    expect(seen.at(-1)).toMatchObject({
      event: 'error',
      data: { code: 'cancelled', retryable: false },
    })
    expect(seen.filter((e) => e.event === 'error' || e.event === 'done')).toHaveLength(1)
    expect(await wholeStream(id)).toEqual(seen)
    expect((await call(`/api/streams/${id}`, { method: 'DELETE' })).status).toBe(204)
  })

  it('404 for an unknown stream', async () => {
    const response = await call('/api/streams/AAAAAAAAAAAAAAAAAAAAAAAA', { method: 'DELETE' })
    expect(response.status).toBe(404)
    expect(await errorOf(response)).toMatchObject({ code: 'stream_not_found' })
  })
})
