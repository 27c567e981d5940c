/**
 * Memory per open stream: `size.streams` streams held open on the silent upstream, and the
 * contender's resident memory growth while they are. RSS moves with the allocator and the garbage
 * collector, so each round runs in a fresh process: memory freed by an earlier round would hide
 * part of the next round's growth. Also says whether every stream got a heartbeat while held.
 */
import { ask } from './client.ts'
import type { Contender } from './contenders.ts'
import type { Served } from './served.ts'
import type { Size } from './size.ts'
import { askOptions } from './streaming.ts'
import type { BenchUpstream } from './upstream.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function idleStreams(contender: Contender, served: Served, upstream: BenchUpstream, size: Size) {
  await ask(served.url, 'burst:100', askOptions(contender, served)) // load and compile the code paths first
  const rss0 = served.rssBytes()
  const hangUp = new AbortController()
  const started = new Array<boolean>(size.streams).fill(false)
  const pinged = new Array<boolean>(size.streams).fill(false)
  const streams = Array.from({ length: size.streams }, (_, i) =>
    ask(
      served.url,
      'silent',
      askOptions(contender, served, {
        signal: hangUp.signal,
        onResponse: () => (started[i] = true),
        onChunk: (text) => text.includes(': ping') && (pinged[i] = true),
      }),
    ).catch(() => {}),
  )
  // Open means open for the client: its upstream has the request and it has the response.
  // (Under wrangler dev each new Durable Object makes its own SQLite file, so a thousand
  // resumable streams take seconds to open locally; the hold starts once they all have.)
  const deadline = Date.now() + 60_000
  while ((upstream.silentOpen < size.streams || !started.every(Boolean)) && Date.now() < deadline) await sleep(100)
  const opened = started.filter(Boolean).length
  pinged.fill(false) // heartbeats from here on: every stream must get one while it is held
  await sleep(size.holdMs)
  const rss1 = served.rssBytes()
  hangUp.abort()
  await Promise.all(streams)
  upstream.endSilent()
  while (upstream.silentOpen > 0) await sleep(50)
  if (opened < size.streams) return `only ${opened} of ${size.streams} streams opened within 60 s`
  return { bytesPerStream: (rss1 - rss0) / size.streams, everyStreamPinged: pinged.every(Boolean) }
}
