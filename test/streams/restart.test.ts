import { abortAllDurableObjects } from 'cloudflare:test'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { idTag, log } from '../../src/log'
import { eventsOf } from '../helpers/sse'
import {
  begun,
  bigToken,
  controlledEnv,
  controlledUpstream,
  expectHonestRestart,
  idsOf,
  reader,
  storedChunks,
  storedEvents,
} from './controlled-upstream'
import { read, until } from './helpers'

afterEach(() => vi.restoreAllMocks())

describe('a resumable answer stored in batches', () => {
  it('gives a live reader each event before it is written, and writes many events per row', async () => {
    const env = controlledEnv()
    const upstream = controlledUpstream()
    const id = await begun(upstream, env, 'one', ' two')
    const live = await reader(id, env)
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
    const id = await begun(upstream, env, 'a', bigToken) // past the size threshold: written at once
    const first = await reader(id, env)
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
    const id = await begun(upstream, env, 'a', 'b', 'c')
    const r = await reader(id, env)
    await r.until(4)
    expect(await storedEvents(id)).toEqual([])
    await abortAllDurableObjects()
    await r.drain()
    const replay = await expectHonestRestart(id, env, [r])
    expect(replay).toHaveLength(1) // nothing was stored: only the terminal event
  })

  it('after a restart, the cut answer has its line and its ledger record, as an interrupted error', async () => {
    const info = vi.spyOn(log, 'info')
    const env = controlledEnv()
    const upstream = controlledUpstream()
    const id = await begun(upstream, env, 'a', 'b')
    const r = await reader(id, env)
    await r.until(3)
    await abortAllDurableObjects()
    await r.drain()
    await expectHonestRestart(id, env, [r])
    await expect
      .poll(
        () => info.mock.calls.find(([msg, fields]) => msg === 'answer ended' && fields?.streamHash === idTag(id))?.[1],
      )
      .toMatchObject({ path: '/api/streams', outcome: 'error', 'error.type': 'interrupted', partial: true })
  })

  it('after a restart right at the end of a write (nothing in memory), every reader resumes honestly', async () => {
    const env = controlledEnv()
    const upstream = controlledUpstream()
    const id = await begun(upstream, env, 'a', bigToken)
    const r = await reader(id, env)
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
    const id = await begun(upstream, env, 'a', bigToken)
    const r = await reader(id, env)
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
    const id = await begun(upstream, env, ...Array.from({ length: 1500 }, (_, i) => ` w${i}`))
    const r = await reader(id, env)
    await r.until(1400)
    await abortAllDurableObjects()
    await r.drain()
    const replay = await expectHonestRestart(id, env, [r])
    expect(Number(replay.at(-1)!.id)).toBeGreaterThan(1500)
  })

  it('after a restart once the answer has ended, nothing changes: the terminal event was durable', async () => {
    const env = controlledEnv()
    const upstream = controlledUpstream()
    const id = await begun(upstream, env, 'a', 'b')
    const r = await reader(id, env)
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
      // An answer begins with its first token (the first token decides): then 0 to 9 more.
      const id = await begun(upstream, env, ' open')
      const r = await reader(id, env)
      await r.until(2)
      for (let i = 0; i < cut; i++) {
        upstream.send(` t${i}`)
        await r.until(3 + i)
        if (i % 3 === 1) await new Promise((resolve) => setTimeout(resolve, 8))
      }
      await abortAllDurableObjects()
      await r.drain()
      await expectHonestRestart(id, env, [r])
      vi.restoreAllMocks()
    }
  })
})
