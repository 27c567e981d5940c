import { abortAllDurableObjects } from 'cloudflare:test'
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { startResumableChat, type ChatStreamEvent } from 'llm-stream-gateway/client' // the import path the docs give
import app from '../../src/index'
import { demoReply } from '../../src/providers/demo/reply'
import {
  begun,
  controlledEnv,
  controlledUpstream,
  expectHonestRestart,
  reader,
  type Reader,
} from './controlled-upstream'
import { BASE, hello, streamEnv } from './helpers'

/** The body as a network that breaks after `bytes` would deliver it: that much, then an error. */
function cutAfter(body: ReadableStream<Uint8Array>, bytes: number): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  let passed = 0
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read()
      if (done) return controller.close()
      const room = bytes - passed
      passed += value.byteLength
      if (value.byteLength < room) return controller.enqueue(value)
      if (room > 0) controller.enqueue(value.slice(0, room))
      await reader.cancel()
      controller.error(new TypeError('network connection lost'))
    },
    cancel: (reason) => reader.cancel(reason),
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('resuming a stream (property)', () => {
  it('for any cut points and reconnect moments, the reader gets the uninterrupted answer, each event once', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Where each connection breaks (bytes into it), and how long the client is away each time.
        fc.array(fc.nat({ max: 3000 }), { maxLength: 6 }),
        fc.array(fc.nat({ max: 12 }), { maxLength: 6 }),
        fc.constantFrom('demo', 'paced'),
        async (cuts, pauses, model) => {
          const env = streamEnv()
          let connections = 0
          const cuttingFetch = async (input: RequestInfo | URL, init?: RequestInit) => {
            const n = connections++
            if (n > 0) await sleep(pauses[n - 1] ?? 0)
            const response = await app.request(String(input), init, env)
            const cut = cuts[n]
            if (cut === undefined || !response.body) return response
            return new Response(cutAfter(response.body, cut), response)
          }
          const answer = await startResumableChat(
            { ...hello, model },
            { baseUrl: BASE, fetch: cuttingFetch as typeof fetch, maxReconnects: 10 },
          )
          const events: ChatStreamEvent[] = []
          for await (const event of answer) events.push(event)

          expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1))
          expect(events[0]).toMatchObject({ event: 'start', data: { id: answer.id } })
          const text = events.map((e) => (e.event === 'delta' ? e.data.text : '')).join('')
          expect(text).toBe(demoReply(hello.messages as never, model))
          expect(events.filter((e) => e.event === 'done')).toHaveLength(1)
          expect(events.at(-1)!.event).toBe('done')
          expect(answer.lastEventId).toBe(events.length)
        },
      ),
      { numRuns: 25 },
    )
  }, 60_000)
})

describe('restarting mid-answer (property)', () => {
  it('for any restart point and reader positions, every reader ends in one interrupted that agrees with the replay', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Each step: tokens the upstream sends, maybe a reader joining after some event and
        // reading some of its backlog, and a pause (the flush window is 5 or 20 ms).
        fc.array(
          fc.record({
            tokens: fc.nat({ max: 4 }),
            join: fc.option(fc.record({ after: fc.nat({ max: 30 }), reads: fc.nat({ max: 30 }) })),
            pause: fc.nat({ max: 12 }),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        fc.constantFrom('5', '20'),
        async (steps, flushMs) => {
          const env = controlledEnv(flushMs)
          const upstream = controlledUpstream()
          try {
            // An answer begins with its first token (the first token decides).
            const id = await begun(upstream, env, ' t0')
            const first = await reader(id, env)
            const readers: Reader[] = [first]
            await first.until(2)
            let sent = 1
            for (const { tokens, join, pause } of steps) {
              if (tokens) {
                upstream.send(...Array.from({ length: tokens }, (_, i) => ` t${sent + i}`))
                sent += tokens
                await first.until(1 + sent)
              }
              if (join) {
                const after = Math.min(join.after, first.lastId)
                const joined = await reader(id, env, after)
                await joined.until(Math.min(join.reads, first.lastId - after))
                readers.push(joined)
              }
              if (pause) await sleep(pause)
            }
            // Every instance goes, as in a deploy or a host failure; storage stays.
            await abortAllDurableObjects()
            for (const r of readers) await r.drain()
            await expectHonestRestart(id, env, readers)
          } finally {
            vi.restoreAllMocks()
          }
        },
      ),
      { numRuns: 25 },
    )
  }, 120_000)
})
