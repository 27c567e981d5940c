import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { EventSourceMessage } from 'eventsource-parser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { ScriptedUpstream, type Played, type Wire } from './scripted-upstream'
import { readStream } from './sse-client'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * Answers the gateway re-encodes, read in batches while their upstream bursts
 * (`pipeline/upstream-reader.ts`, issue 30), under `wrangler dev` against a loopback upstream that
 * writes thousands of chunks at once. The batches must change nothing the client can see but the
 * cost: every token in order and once, one terminal event, the provider's usage; a cut, a reset
 * or a silence after the burst still ends in the error event; a token that trickles in after the
 * burst is not held back waiting for more; and a client who leaves mid-burst still closes the
 * upstream. Only a body received over the network is read in batches, hence a real upstream.
 */
const HEARTBEAT_MS = 400
const IDLE_TIMEOUT_MS = 2500
const BURST = 3000
const key = generateApiKey()

let upstream: ScriptedUpstream
let gateway: WranglerDev
let persistTo: string

beforeAll(async () => {
  upstream = new ScriptedUpstream()
  const url = await upstream.start()
  persistTo = mkdtempSync(join(tmpdir(), 'gateway-burst-'))
  gateway = await startWranglerDev(
    {
      DEFAULT_MODEL: 'chat',
      HEARTBEAT_MS: String(HEARTBEAT_MS),
      UPSTREAM_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
      MODELS: JSON.stringify({
        chat: {
          adapter: 'openai',
          base_url: url,
          upstream_model: 'chat-upstream',
          retries: 0,
          circuit_breaker: { failures: 1_000_000 },
        },
      }),
      API_KEYS: JSON.stringify({ burst: { sha256: await hashApiKey(key), models: ['*'] } }),
    },
    {},
    { persistTo },
  )
}, 180_000)

afterAll(async () => {
  await gateway?.stop()
  await upstream?.stop()
  if (persistTo) rmSync(persistTo, { recursive: true, force: true })
})

// An OpenAI Chat Completions stream, as the provider writes it.
const chunk = (fields: object) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-burst', object: 'chat.completion.chunk', created: 1, model: 'chat-upstream', ...fields })}\n\n`
const delta = (d: object, finish_reason: string | null = null) =>
  chunk({ choices: [{ index: 0, delta: d, finish_reason }] })
const OPEN = delta({ role: 'assistant', content: '' })
const token = (i: number) => delta({ content: ` t${i}` })
const CLOSE = [
  delta({}, 'stop'),
  chunk({ choices: [], usage: { prompt_tokens: 17, completion_tokens: 4321, total_tokens: 4338 } }),
  'data: [DONE]\n\n',
]
/** The burst: every token its own chunk, written at once. */
const burstOf = (from: number, count: number) => Array.from({ length: count }, (_, i) => token(from + i))
const textOf = (from: number, count: number) => Array.from({ length: count }, (_, i) => ` t${from + i}`).join('')

let words = 0
const wordFor = (what: string) => `[burst-${what}-${++words}]`

function ask(word: string, signal = AbortSignal.timeout(30_000)) {
  return fetch(`${gateway.url}/api/chat`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
    body: JSON.stringify({ messages: [{ role: 'user', content: word }] }),
    signal,
  })
}

const named = (events: EventSourceMessage[], name: string) => events.filter((event) => event.event === name)
const text = (events: EventSourceMessage[]) =>
  named(events, 'delta')
    .map((event) => (JSON.parse(event.data) as { text: string }).text)
    .join('')

/** The burst, then `after`: what the upstream does once it has sent it. */
function playBurst(word: string, after: (wire: Wire) => Promise<void>): Played {
  return upstream.play(word, async (wire) => {
    await wire.write(OPEN)
    wire.burst(burstOf(0, BURST))
    await after(wire)
  })
}

describe('an upstream that bursts', () => {
  it('arrives whole: every token once and in order, one done, the provider’s usage', async () => {
    const word = wordFor('whole')
    playBurst(word, async (wire) => wire.burst(CLOSE))
    const response = await ask(word)
    expect(response.status).toBe(200)
    const events = await readStream(response).rest()
    expect(text(events)).toBe(textOf(0, BURST))
    expect(named(events, 'error')).toEqual([])
    expect(named(events, 'done')).toHaveLength(1)
    expect(events.at(-1)!.event).toBe('done')
    expect(JSON.parse(named(events, 'usage')[0]!.data)).toMatchObject({ prompt_tokens: 17, completion_tokens: 4321 })
    // Our ids still count one per event, batches or not.
    expect(events.map((event) => Number(event.id))).toEqual(events.map((_, i) => i + 1))
  })

  it('then trickles: each later token reaches the client before the upstream sends the next', async () => {
    const word = wordFor('trickle')
    const seen: Array<() => void> = []
    const sighted = Array.from({ length: 5 }, (_, i) => new Promise<void>((resolve) => (seen[i] = resolve)))
    playBurst(word, async (wire) => {
      for (let i = 0; i < 5; i++) {
        await wire.write(token(BURST + i), 0)
        // Nothing more is sent until the client has this token: a reader that held it back
        // waiting for more would wait forever, and the test would time out.
        await sighted[i]
      }
      wire.burst(CLOSE)
    })
    const reading = readStream(await ask(word))
    let received = ''
    for (let i = 0; i < 5; i++) {
      while (!received.endsWith(` t${BURST + i}`)) {
        const event = await reading.nextEvent((e) => e.event === 'delta')
        expect(event).not.toBeNull()
        received += (JSON.parse(event!.data) as { text: string }).text
      }
      seen[i]!()
    }
    const rest = await reading.rest()
    expect(received).toBe(textOf(0, BURST + 5))
    expect(rest.at(-1)!.event).toBe('done')
  })

  it('then ends without its end: the error event upstream_truncated, no done', async () => {
    const word = wordFor('truncated')
    playBurst(word, async (wire) => wire.end())
    const events = await readStream(await ask(word)).rest()
    expect(text(events)).toBe(textOf(0, BURST))
    expect(named(events, 'done')).toEqual([])
    expect(events.at(-1)!.event).toBe('error')
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({ code: 'upstream_truncated' })
  })

  it('then resets: the error event upstream_connection_lost, no done', async () => {
    const word = wordFor('reset')
    playBurst(word, async (wire) => {
      await wire.pause(100)
      wire.reset()
    })
    const events = await readStream(await ask(word)).rest()
    expect(named(events, 'done')).toEqual([])
    expect(events.at(-1)!.event).toBe('error')
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({ code: 'upstream_connection_lost' })
  })

  it('then falls silent: heartbeats, then the error event upstream_idle_timeout', async () => {
    const word = wordFor('silent')
    playBurst(word, async (wire) => wire.pause(IDLE_TIMEOUT_MS + 3000))
    const reading = readStream(await ask(word))
    const events = await reading.rest()
    expect(text(events)).toBe(textOf(0, BURST))
    expect(reading.comments.length).toBeGreaterThanOrEqual(2)
    expect(named(events, 'done')).toEqual([])
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({ code: 'upstream_idle_timeout' })
  })

  it('a client who leaves mid-answer: the upstream’s connection is closed within 5 s, long before its end', async () => {
    const word = wordFor('leave')
    const played = playBurst(word, async (wire) => {
      // After the burst, a token every 20 ms: 8 s for the rest.
      for (let i = 0; i < 400 && !wire.closed; i++) await wire.write(token(BURST + i), 20)
      wire.burst(CLOSE)
    })
    const client = new AbortController()
    const reading = readStream(await ask(word, client.signal))
    // Read as a client does, each event once: a reader slower than the idle timeout would get
    // `upstream_idle_timeout` (the pipeline reads the upstream only as its client reads).
    let received = ''
    while (!received.endsWith(` t${BURST + 5}`)) {
      const event = await reading.nextEvent((e) => e.event === 'delta')
      expect(event, JSON.stringify(reading.events.slice(-2))).not.toBeNull()
      received += (JSON.parse(event!.data) as { text: string }).text
    }
    const leftAt = Date.now()
    client.abort()
    await Promise.race([played.done, new Promise((resolve) => setTimeout(resolve, 6000))])
    expect(played.closedAt).toBeDefined()
    expect(played.closedAt! - leftAt).toBeLessThan(5000)
    expect(played.written).not.toContain(` t${BURST + 399}`)
  })
})
