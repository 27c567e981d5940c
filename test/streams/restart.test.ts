import { abortAllDurableObjects } from 'cloudflare:test'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { eventsOf } from '../helpers/sse'
import {
  bigToken,
  controlledEnv,
  controlledUpstream,
  idsOf,
  isTerminalEvent,
  reader,
  storedChunks,
  storedEvents,
  type SeenEvent,
} from './controlled-upstream'
import { created, read, until } from './helpers'

afterEach(() => vi.restoreAllMocks())

const interrupted = { event: 'error', data: { code: 'interrupted', retryable: true } }

/**
 * What every reader must find after a restart, whatever it held: the events after its last one
 * that are in the replay, then exactly one terminal `interrupted`, under an id past everything
 * any reader was ever given; and a replay from the start that agrees with it id for id.
 */
async function expectHonestRestart(id: string, env: Env, readers: Awaited<ReturnType<typeof reader>>[]) {
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

describe('a resumable answer stored in batches', () => {
  it('gives a live reader each event before it is written, and writes many events per row', async () => {
    const env = controlledEnv()
    const upstream = controlledUpstream()
    const id = await created(undefined, env)
    const live = await reader(id, env)
    upstream.send('one', ' two')
    await live.until(3)
    expect(live.seen.map((e) => e.event)).toEqual(['start', 'delta', 'delta'])
    // Seen, and not stored: the flush window (10 minutes here) has not ended.
    expect(await storedEvents(id)).toEqual([])
    upstream.send(' three')
    upstream.finish()
    await live.drain()
    expect(live.seen.at(-1)!.event).toBe('done')
    // Written at the terminal event, all in one row.
    const stored = await storedEvents(id)
    expect(stored.map((e) => e.id)).toEqual(idsOf(live.seen))
    expect(await storedChunks(id)).toBe(1)
  })

  it('gives a reader that joins mid-answer the stored events, then the tail from memory, then live', async () => {
    const env = controlledEnv()
    const upstream = controlledUpstream()
    const id = await created(undefined, env)
    const first = await reader(id, env)
    upstream.send('a', bigToken) // past the size threshold: written at once
    await first.until(3)
    await until(async () => (await storedEvents(id)).length === 3)
    upstream.send('b', 'c')
    await first.until(5)
    expect((await storedEvents(id)).length).toBe(3) // b and c are only in memory
    const joining = [await reader(id, env), await reader(id, env, 2), await reader(id, env, 4)]
    for (const r of joining) await r.until(5 - (r === joining[0] ? 0 : r === joining[1] ? 2 : 4))
    upstream.send('d')
    upstream.finish()
    for (const r of [first, ...joining]) await r.drain()
    const whole = first.seen
    expect(whole.at(-1)!.event).toBe('done')
    expect(joining[0]!.seen).toEqual(whole)
    expect(joining[1]!.seen).toEqual(whole.slice(2))
    expect(joining[2]!.seen).toEqual(whole.slice(4))
  })

  it('after a restart before anything was stored: interrupted under an id past what any reader saw', async () => {
    const env = controlledEnv()
    const upstream = controlledUpstream()
    const id = await created(undefined, env)
    const r = await reader(id, env)
    upstream.send('a', 'b', 'c')
    await r.until(4)
    expect(await storedEvents(id)).toEqual([])
    await abortAllDurableObjects()
    await r.drain()
    const replay = await expectHonestRestart(id, env, [r])
    expect(replay).toHaveLength(1) // nothing was stored: only the terminal event
  })

  it('after a restart right at the end of a write (nothing in memory), every reader resumes honestly', async () => {
    const env = controlledEnv()
    const upstream = controlledUpstream()
    const id = await created(undefined, env)
    const r = await reader(id, env)
    upstream.send('a', bigToken)
    await r.until(3)
    await until(async () => (await storedEvents(id)).length === 3)
    const behind = await reader(id, env, 1)
    await behind.until(2)
    await abortAllDurableObjects()
    await r.drain()
    await behind.drain()
    const replay = await expectHonestRestart(id, env, [r, behind])
    expect(replay.slice(0, 3)).toEqual(r.seen.slice(0, 3))
  })

  it('after a restart inside a window, readers holding lost events get interrupted, not a 400', async () => {
    const env = controlledEnv()
    const upstream = controlledUpstream()
    const id = await created(undefined, env)
    const r = await reader(id, env)
    upstream.send('a', bigToken)
    await r.until(3)
    await until(async () => (await storedEvents(id)).length === 3)
    upstream.send('b', 'c', 'd')
    await r.until(6) // events 4 to 6 are in memory only
    const stored = await reader(id, env, 2) // a reader inside the stored part
    await stored.until(4)
    await abortAllDurableObjects()
    for (const x of [r, stored]) await x.drain()
    const replay = await expectHonestRestart(id, env, [r, stored])
    expect(replay.map((e) => e.event)).toEqual(['start', 'delta', 'delta', 'error'])
    // A reader that comes back claiming a lost event (4, 5 or 6) gets the terminal event, not a 400.
    for (const lost of [4, 5, 6]) {
      const again = eventsOf(await (await read(id, lost, env)).text())
      expect(again).toEqual([replay.at(-1)])
    }
  })

  it('after a restart while a long burst runs past the reserved ids, no id is used twice', async () => {
    const env = controlledEnv()
    const upstream = controlledUpstream()
    const id = await created(undefined, env)
    const r = await reader(id, env)
    upstream.send(...Array.from({ length: 1500 }, (_, i) => ` w${i}`))
    await r.until(1400)
    await abortAllDurableObjects()
    await r.drain()
    const replay = await expectHonestRestart(id, env, [r])
    expect(Number(replay.at(-1)!.id)).toBeGreaterThan(1500)
  })

  it('after a restart once the answer has ended, nothing changes: the terminal event was durable', async () => {
    const env = controlledEnv()
    const upstream = controlledUpstream()
    const id = await created(undefined, env)
    const r = await reader(id, env)
    upstream.send('a', 'b')
    upstream.finish()
    await r.drain()
    expect(r.seen.at(-1)!.event).toBe('done')
    await abortAllDurableObjects()
    const replay = eventsOf(await (await read(id, undefined, env)).text())
    expect(replay).toEqual(r.seen)
    expect((await read(id, r.lastId, env)).status).toBe(204)
  })

  it('restarts at many points of a real flush window: every reader and the replay agree', async () => {
    // A short window, and restarts after 0 to 9 tokens paced across it: before the first write,
    // just after one, and in between.
    for (let cut = 0; cut < 10; cut++) {
      const env = controlledEnv('15')
      const upstream = controlledUpstream()
      const id = await created(undefined, env)
      const r = await reader(id, env)
      await r.until(1)
      for (let i = 0; i < cut; i++) {
        upstream.send(` t${i}`)
        await r.until(2 + i)
        if (i % 3 === 1) await new Promise((resolve) => setTimeout(resolve, 8))
      }
      await abortAllDurableObjects()
      await r.drain()
      await expectHonestRestart(id, env, [r])
      vi.restoreAllMocks()
    }
  })
})
