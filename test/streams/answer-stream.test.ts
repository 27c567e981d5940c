import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { demoReply } from '../../src/providers/demo/reply'
import type { AnswerStream } from '../../src/streams/answer-stream'
import { EventChunks } from '../../src/streams/event-chunks'
import { eventsOf } from '../helpers/sse'
import { openAI } from '../helpers/upstream'
import { call, created, hello, read, readStream, streamEnv, stub, textOf, until, wholeStream } from './helpers'

const readers = (id: string) => runInDurableObject(stub(id), (instance: AnswerStream) => instance.readerCount)
/** What the object's storage holds: its SQL tables, and chunks of events (rows) with the events in them. */
const storedRows = (id: string) =>
  runInDurableObject(stub(id), (_: AnswerStream, state) => {
    const tables = state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table'").toArray()
    const chunks = [...state.storage.kv.list({ prefix: 'events:' })].length
    return { tables: tables.length, chunks, events: new EventChunks(state.storage).after(0, Infinity, Infinity).length }
  })

afterEach(() => vi.restoreAllMocks())

/**
 * An OpenAI-style upstream with a long answer, in place of `fetch` (the objects of the main
 * Worker run in the test's isolate, so they see the stand-in too).
 */
function longUpstream(tokens: number) {
  const text = Array.from({ length: tokens }, (_, i) => ` w${i}`)
  const body = text.map(openAI.text).join('') + openAI.finish() + openAI.usage(1, tokens) + openAI.done
  vi.spyOn(globalThis, 'fetch').mockImplementation(async () => {
    const bytes = new TextEncoder().encode(body)
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        // In pieces of ~1 KiB, as a network delivers it.
        for (let i = 0; i < bytes.length; i += 1024) controller.enqueue(bytes.slice(i, i + 1024))
        controller.close()
      },
    })
    return new Response(stream, { headers: { 'Content-Type': 'text/event-stream' } })
  })
  return text.join('')
}

const longModel = {
  MODELS: { long: { adapter: 'openai', base_url: 'https://upstream.test/v1', upstream_model: 'm' } },
  DEFAULT_MODEL: 'long',
}

describe('the AnswerStream object', () => {
  it('stores every event, many to a row', async () => {
    const id = await created()
    const events = await wholeStream(id)
    expect(events.at(-1)!.event).toBe('done')
    const { chunks, events: stored } = await storedRows(id)
    expect(stored).toBe(events.length)
    // A burst of 69 events: written at its end, in one row (two if a flush window ended mid-way).
    expect(chunks).toBeLessThanOrEqual(2)
  })

  it('stores nothing for an id that was never created, however often it is asked for', async () => {
    const id = 'BBBBBBBBBBBBBBBBBBBBBBBB'
    expect((await read(id)).status).toBe(404)
    expect((await call(`/api/streams/${id}`, { method: 'DELETE' })).status).toBe(404)
    expect(await storedRows(id)).toEqual({ tables: 0, chunks: 0, events: 0 })
  })

  it('keeps an ended stream for its retention: the alarm before then leaves it alone', async () => {
    const id = await created()
    await wholeStream(id)
    expect(await runDurableObjectAlarm(stub(id))).toBe(true)
    expect((await read(id)).status).toBe(200)
  })

  it('deletes an ended stream once its retention has passed: 404 afterwards, and no storage left', async () => {
    const env = streamEnv({ STREAM_RETENTION_MS: '1' })
    const id = await created(hello, env)
    expect((await wholeStream(id, env)).at(-1)!.event).toBe('done')
    // The alarm may already have fired by itself; run it if it has not.
    await until(async () => {
      await runDurableObjectAlarm(stub(id))
      return (await read(id, undefined, env)).status === 404
    })
    expect(await storedRows(id)).toEqual({ tables: 0, chunks: 0, events: 0 })
    expect(await runDurableObjectAlarm(stub(id))).toBe(false)
  })

  it('after a restart mid-answer, replays what was stored and ends with a retryable interrupted error', async () => {
    const id = await created({ ...hello, model: 'silent' })
    const first = readStream(await read(id))
    while (first.events.filter((e) => e.event === 'delta').length < 3) await first.more()
    // Wait for the window's write, so there is something stored to replay (restart.test.ts
    // restarts at every other point).
    await until(async () => (await storedRows(id)).events === first.events.length)
    // Every instance goes, as in a deploy or a host failure; storage stays.
    await abortAllDurableObjects()
    const after = await wholeStream(id)
    expect(after.slice(0, first.events.length)).toEqual(first.events)
    expect(after.at(-1)).toMatchObject({ event: 'error', data: { code: 'interrupted', retryable: true } })
    expect(after.filter((e) => e.event === 'done' || e.event === 'error')).toHaveLength(1)
    // Stored events are numbered on from 1; the terminal one takes an id past every reserved one.
    const stored = after.slice(0, -1)
    expect(stored.map((e) => Number(e.id))).toEqual(stored.map((_, i) => i + 1))
    expect(Number(after.at(-1)!.id)).toBeGreaterThan(stored.length)
    // It is over: a reader that has the terminal event is told so.
    expect((await read(id, Number(after.at(-1)!.id))).status).toBe(204)
  })

  it('reads on a stream stored one row per event (before chunks), and ends it honestly if it was running', async () => {
    const id = await created({ ...hello, model: 'silent' })
    await until(async () => (await storedRows(id)).events === 4) // start and three deltas, then silence
    // Store it as the gateway did before chunks: an `events` table, one row per event, no reserved ids.
    await runInDurableObject(stub(id), (_: AnswerStream, state) => {
      const events = new EventChunks(state.storage).after(0, Infinity, Infinity)
      state.storage.sql.exec('CREATE TABLE events (id INTEGER PRIMARY KEY, event TEXT NOT NULL, data TEXT NOT NULL)')
      for (const e of events) state.storage.sql.exec('INSERT INTO events VALUES (?, ?, ?)', e.id, e.event, e.data)
      for (const [key] of state.storage.kv.list({ prefix: 'events:' })) state.storage.kv.delete(key)
      const { meta } = state.storage.sql.exec<{ meta: string }>('SELECT meta FROM stream').one()
      const old = JSON.parse(meta) as Record<string, unknown>
      delete old.reserved
      state.storage.sql.exec('UPDATE stream SET meta = ?', JSON.stringify(old))
    })
    await abortAllDurableObjects()
    const after = await wholeStream(id)
    expect(after.map((e) => e.event)).toEqual(['start', 'delta', 'delta', 'delta', 'error'])
    expect(after.map((e) => Number(e.id))).toEqual([1, 2, 3, 4, 5])
    expect(await storedRows(id)).toMatchObject({ events: 5 })
    const oldTable = await runInDurableObject(stub(id), (_: AnswerStream, state) =>
      state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'events'").toArray(),
    )
    expect(oldTable).toEqual([]) // moved into chunks, once
  })

  it('ends a stream that grows past STREAM_MAX_BYTES with an error, and stops the answer there', async () => {
    const env = streamEnv({ STREAM_MAX_BYTES: '300' })
    const id = await created(hello, env)
    const events = await wholeStream(id, env)
    expect(events.at(-1)).toMatchObject({ event: 'error', data: { code: 'stream_too_large', retryable: false } })
    expect(events.filter((e) => e.event === 'done')).toHaveLength(0)
    const stored = events.slice(0, -1).reduce((sum, e) => sum + JSON.stringify(e.data).length, 0)
    expect(stored).toBeLessThanOrEqual(300)
    expect(textOf(events).length).toBeLessThan(demoReply(hello.messages as never).length)
  })

  // The demo answer is a few hundred paced tokens (Markdown with a table and a code block).
  it('goes on when every reader has left (STREAM_ABANDON_MS unset)', { timeout: 20_000 }, async () => {
    const env = streamEnv()
    const long = { model: 'paced', messages: [{ role: 'user', content: 'word '.repeat(40) }] }
    const id = await created(long, env)
    const first = readStream(await read(id, undefined, env))
    await first.more()
    await first.cancel()
    await until(async () => (await readers(id)) === 0)
    const events = await wholeStream(id, env)
    expect(events.at(-1)!.event).toBe('done')
    expect(textOf(events)).toBe(demoReply(long.messages as never, 'paced'))
  })

  it('with STREAM_ABANDON_MS, cancels an answer nobody has read for that long', async () => {
    const env = streamEnv({ STREAM_ABANDON_MS: '1' })
    const id = await created({ ...hello, model: 'silent' }, env)
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(await runDurableObjectAlarm(stub(id))).toBe(true)
    const events = await wholeStream(id, env)
    expect(events.at(-1)).toMatchObject({ event: 'error', data: { code: 'abandoned' } })
  })

  it('with STREAM_ABANDON_MS, leaves an answer alone while someone reads it', async () => {
    const env = streamEnv({ STREAM_ABANDON_MS: '1' })
    const id = await created({ ...hello, model: 'silent' }, env)
    const reading = readStream(await read(id, undefined, env))
    await reading.more()
    await new Promise((resolve) => setTimeout(resolve, 5))
    await runDurableObjectAlarm(stub(id))
    expect(reading.events.some((e) => e.event === 'error')).toBe(false)
    await call(`/api/streams/${id}`, { method: 'DELETE' }, env)
    await reading.rest()
    expect(reading.events.at(-1)).toMatchObject({ event: 'error', data: { code: 'cancelled' } })
  })

  it('lets go of a reader whose client left, by its next heartbeat at the latest', async () => {
    // A cancel reaches the object when it next writes to that reader; heartbeats bound the wait.
    const env = streamEnv({ HEARTBEAT_MS: '50' })
    const id = await created({ ...hello, model: 'silent' }, env)
    const reading = readStream(await read(id, undefined, env))
    await reading.more()
    expect(await readers(id)).toBe(1)
    await reading.cancel()
    await until(async () => (await readers(id)) === 0)
    await call(`/api/streams/${id}`, { method: 'DELETE' }, env)
  })

  it('does not count a reader that replayed an ended stream to its end as connected', async () => {
    // Such a reader can read to the end, and close, while it is being made.
    const id = await created()
    await wholeStream(id)
    for (let i = 0; i < 3; i++) expect((await wholeStream(id)).at(-1)!.event).toBe('done')
    expect(await readers(id)).toBe(0)
  })

  it('a reader that does not read while the answer is written still gets all of it, in order', async () => {
    const env = streamEnv(longModel)
    const expected = longUpstream(3000)
    const id = await created(hello, env)
    const idle = await read(id, undefined, env) // not read until the answer is complete
    await until(async () => (await read(id, 10_000, env)).status === 204)
    const events = eventsOf(await idle.text())
    expect(events).toHaveLength(3003) // start, 3000 deltas, usage, done
    expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1))
    expect(textOf(events)).toBe(expected)
  })
})
