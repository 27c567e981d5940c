import { runInDurableObject } from 'cloudflare:test'
import { expect, vi } from 'vitest'
import type { StoredEvent } from '../../src/events/stored-event'
import type { AnswerStream } from '../../src/streams/answer-stream'
import { EventChunks } from '../../src/streams/event-chunks'
import { eventsOf } from '../helpers/sse'
import { openAI } from '../helpers/upstream'
import { created, read, readStream, streamEnv, stub } from './helpers'

const utf8 = new TextEncoder()

/**
 * An OpenAI-style upstream, in place of `fetch`, that sends what the test tells it to when it
 * tells it to: the answer's object runs in the test's isolate, so it sees the stand-in.
 */
export function controlledUpstream() {
  const pending: string[] = []
  let ended = false
  let tokens = 0
  vi.spyOn(globalThis, 'fetch').mockImplementation(async () => {
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        // Polled on a timer of the object's own: a promise the test resolved would run the
        // object's code on in the test's context, where its storage cannot be reached.
        while (!pending.length && !ended) await new Promise((resolve) => setTimeout(resolve, 1))
        if (pending.length) controller.enqueue(utf8.encode(pending.splice(0).join('')))
        else controller.close()
      },
    })
    return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } })
  })
  return {
    /** Sends these tokens, in one network chunk. */
    send(...texts: string[]) {
      tokens += texts.length
      pending.push(...texts.map(openAI.text))
    },
    finish() {
      pending.push(openAI.finish() + openAI.usage(1, tokens) + openAI.done)
      ended = true
    },
  }
}

/**
 * Creates a stream on the controlled upstream, sending `texts` while the gateway waits for the
 * upstream's first event: the answer begins only once it has one (the first token decides).
 */
export async function begun(upstream: ReturnType<typeof controlledUpstream>, env: Env, ...texts: string[]) {
  const creating = created(undefined, env)
  upstream.send(...texts)
  return creating
}

/**
 * A model on the controlled upstream, and a flush window so long that only the size threshold
 * and the terminal event write anything: the tests decide exactly what is stored when.
 */
export const controlledEnv = (flushMs = '600000') =>
  streamEnv({
    MODELS: { ctl: { adapter: 'openai', base_url: 'https://upstream.test/v1', upstream_model: 'm' } },
    DEFAULT_MODEL: 'ctl',
    STREAM_FLUSH_MS: flushMs,
  })

/** Event data past the log's size threshold (32 KiB): sending it makes the object write at once. */
export const bigToken = 'x'.repeat(33 * 1024)

/** The events in the object's storage (written, durable or not), in order. */
export const storedEvents = (id: string): Promise<StoredEvent[]> =>
  runInDurableObject(stub(id), (_: AnswerStream, state) => new EventChunks(state.storage).after(0, Infinity, Infinity))

/** How many chunk rows the object's storage holds. */
export const storedChunks = (id: string): Promise<number> =>
  runInDurableObject(stub(id), (_: AnswerStream, state) => [...state.storage.kv.list({ prefix: 'events:' })].length)

export type SeenEvent = ReturnType<typeof eventsOf>[number]

/** A reader of the stream that keeps what it has seen, and can reconnect after what it has. */
export async function reader(id: string, env: Env, lastEventId?: number) {
  const seen: SeenEvent[] = []
  let connection = readStream(await read(id, lastEventId, env))
  let base: SeenEvent[] = []
  const sync = () => {
    seen.length = 0
    seen.push(...base, ...connection.events)
  }
  const self = {
    seen,
    get lastId(): number {
      return Number(seen.at(-1)?.id ?? lastEventId ?? 0)
    },
    /** Reads until it has `count` events in all (throws if the stream ends first). */
    async until(count: number) {
      while (seen.length < count) {
        if (!(await connection.more())) throw new Error(`stream ended with ${seen.length} events, wanted ${count}`)
        sync()
      }
    },
    /** Reads what the connection gives until it ends (or breaks, as a restart breaks it). */
    async drain() {
      try {
        while (await connection.more()) sync()
      } catch {
        // the connection broke: what it had is kept
      }
      sync()
    },
    /** A new connection from the last event it has, as EventSource does; the status it got. */
    async reconnect(): Promise<number> {
      base = [...seen]
      const response = await read(id, self.lastId, env)
      connection = readStream(response)
      if (response.status !== 200) return response.status
      await self.drain()
      return 200
    },
  }
  return self
}

export type Reader = Awaited<ReturnType<typeof reader>>

const interrupted = { event: 'error', data: { code: 'interrupted', retryable: true } }

/**
 * What every reader must find after a restart, whatever it held: the events after its last one
 * that are in the replay, then exactly one terminal `interrupted`, under an id past everything
 * any reader was ever given; and a replay from the start that agrees with it id for id.
 */
export async function expectHonestRestart(id: string, env: Env, readers: Reader[]) {
  const replay = eventsOf(await (await read(id, undefined, env)).text())
  const terminal = replay.at(-1)!
  expect(terminal).toMatchObject(interrupted)
  expect(replay.filter(isTerminalEvent)).toHaveLength(1)
  // The replay's own ids: consecutive up to the terminal event, which may skip the lost ones.
  expect(idsOf(replay.slice(0, -1))).toEqual(replay.slice(0, -1).map((_, i) => i + 1))
  const byId = new Map(replay.map((e) => [e.id, e]))
  const seenMax = Math.max(0, ...readers.flatMap((r) => idsOf(r.seen)))
  expect(Number(terminal.id)).toBeGreaterThan(seenMax)

  for (const r of readers) {
    const before = r.seen.length
    expect(await r.reconnect()).toBe(200)
    const all: SeenEvent[] = r.seen
    // Exactly one terminal, at the end, and it is the replay's.
    expect(all.filter(isTerminalEvent)).toHaveLength(1)
    expect(all.at(-1)).toEqual(terminal)
    // Gapless up to it; everything it got after reconnecting is the replay's, id for id.
    const body = all.slice(0, -1)
    const first = Number(body[0]?.id ?? 1)
    expect(idsOf(body)).toEqual(body.map((_, i) => first + i))
    for (const e of all.slice(before)) expect(byId.get(e.id)).toEqual(e)
    // What it had before the restart never contradicts the replay: an id the replay has names the same event.
    for (const e of all.slice(0, before)) if (byId.has(e.id)) expect(byId.get(e.id)).toEqual(e)
  }
  // It is over: a reader with the terminal event is told so.
  expect((await read(id, Number(terminal.id), env)).status).toBe(204)
  return replay
}

export const idsOf = (events: SeenEvent[]) => events.map((e) => Number(e.id))
export const isTerminalEvent = (e: SeenEvent) => e.event === 'done' || e.event === 'error'
