import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { EventSourceMessage } from 'eventsource-parser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readStream } from './sse-client'
import { TestUpstream, testModels } from './upstream-server'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * A crash mid-answer: `wrangler dev` is killed (SIGKILL, wrangler and workerd at once) while an
 * answer is being generated, and started again on the same `--persist-to` storage. The flush
 * window is long, so what the reader saw before the crash was never stored: the case where a
 * dishonest restart would reuse its ids.
 */
let upstream: TestUpstream
let upstreamUrl: string
let persistTo: string
let gateway: WranglerDev

const vars = () => ({
  DEFAULT_MODEL: 'upstream',
  MODELS: testModels(upstreamUrl),
  ANONYMOUS_MODELS: 'upstream, demo',
  RETRY_MS: '100',
  STREAM_FLUSH_MS: '60000',
})

beforeAll(async () => {
  upstream = new TestUpstream()
  upstreamUrl = await upstream.start()
  persistTo = mkdtempSync(join(tmpdir(), 'gateway-persist-'))
  gateway = await startWranglerDev(vars(), {}, { persistTo })
})

afterAll(async () => {
  await gateway?.stop()
  await upstream?.stop()
  if (persistTo) rmSync(persistTo, { recursive: true, force: true })
})

async function create(content: string): Promise<string> {
  const response = await fetch(`${gateway.url}/api/streams`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content }] }),
  })
  expect(response.status).toBe(201)
  return ((await response.json()) as { id: string }).id
}

const read = (id: string, lastEventId?: string) =>
  fetch(`${gateway.url}/api/streams/${id}`, {
    headers: { Accept: 'text/event-stream', ...(lastEventId && { 'Last-Event-ID': lastEventId }) },
  })

const shape = ({ id, event, data }: EventSourceMessage) => ({ id, event, data })

describe('a crash of wrangler dev mid-answer, then a restart on the same storage', () => {
  it('a reader resumes and gets interrupted under a new id; a replay agrees; an ended answer stays whole', async () => {
    // One answer that ends before the crash, one that is cut by it.
    const ended = await create('Hello')
    const whole = (await readStream(await read(ended)).rest()).map(shape)
    expect(whole.at(-1)!.event).toBe('done')

    const cut = await create('gated')
    const reader = readStream(await read(cut))
    await reader.nextEvent((e) => e.event === 'delta') // "First": the upstream holds the rest
    const seen = reader.events.map(shape)
    expect(seen.map((e) => e.event)).toEqual(['start', 'delta'])

    await gateway.kill()
    await reader.rest().catch(() => {}) // the connection died with it
    gateway = await startWranglerDev(vars(), {}, { persistTo })

    // The reader comes back with the last id it has, as EventSource would.
    const resumed = await read(cut, seen.at(-1)!.id)
    expect(resumed.status).toBe(200)
    const after = (await readStream(resumed).rest()).map(shape)
    expect(after).toHaveLength(1)
    const terminal = after[0]!
    expect(terminal.event).toBe('error')
    expect(JSON.parse(terminal.data)).toMatchObject({ code: 'interrupted', retryable: true })
    expect(Number(terminal.id)).toBeGreaterThan(Number(seen.at(-1)!.id))

    // A replay from the start agrees: no id it has names anything other than what the reader saw,
    // and it ends in the same terminal event.
    const replay = (await readStream(await read(cut)).rest()).map(shape)
    expect(replay.at(-1)).toEqual(terminal)
    expect(replay.filter((e) => e.event === 'done' || e.event === 'error')).toHaveLength(1)
    for (const event of replay.slice(0, -1)) expect(seen.find((s) => s.id === event.id)).toEqual(event)
    expect((await read(cut, terminal.id)).status).toBe(204)

    // The answer that had ended is untouched.
    expect((await readStream(await read(ended)).rest()).map(shape)).toEqual(whole)
    expect((await read(ended, whole.at(-1)!.id)).status).toBe(204)
  }, 120_000)
})
