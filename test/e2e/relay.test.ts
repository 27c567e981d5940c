import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { ScriptedUpstream, type Played, type Wire } from './scripted-upstream'
import { applyLedgerMigrations, startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * The relay (issue 30) under `wrangler dev`, against a loopback upstream that writes its event
 * stream on a script: a same-family streaming answer (`/v1/messages` to an `anthropic` model,
 * `/v1/responses` to an `api = "responses"` one, `/v1/chat/completions` with `include_usage` to a
 * Chat one) reaches the client as the provider's own bytes, and still keeps the gateway's
 * promises: an answer cut short, reset or gone silent for too long ends in the dialect's error
 * event that the real SDK raises on; a client who leaves cancels the upstream; a silence gets
 * heartbeats and loses nothing of what follows it; the ledger has the provider's usage exactly.
 * Only a body received over the network is relayed (`providers/http.ts`), hence a real upstream.
 */
const HEARTBEAT_MS = 400
const IDLE_TIMEOUT_MS = 2500
const SINGLE_ATTEMPT = { retries: 0, circuit_breaker: { failures: 1_000_000 } }

const keys = {
  agent: generateApiKey(),
  ops: generateApiKey(),
  usageMessages: generateApiKey(),
  usageResponses: generateApiKey(),
  usageChat: generateApiKey(),
  usageCut: generateApiKey(),
}

let upstream: ScriptedUpstream
let gateway: WranglerDev
let persistTo: string
/** The gateway's MODELS and API_KEYS, for any `wrangler dev` of this file. */
let models: string
let apiKeys: string

beforeAll(async () => {
  upstream = new ScriptedUpstream()
  const url = await upstream.start()
  persistTo = mkdtempSync(join(tmpdir(), 'gateway-relay-'))
  await applyLedgerMigrations(persistTo)
  const API_KEYS: Record<string, object> = {}
  for (const [name, key] of Object.entries(keys)) {
    API_KEYS[name] = { sha256: await hashApiKey(key), models: ['*'], ...(name === 'ops' && { admin: true }) }
  }
  models = JSON.stringify({
    claude: {
      adapter: 'anthropic',
      base_url: url,
      upstream_model: 'claude-upstream',
      api_key_secret: 'ANTHROPIC_KEY',
      ...SINGLE_ATTEMPT,
    },
    gpt: { adapter: 'openai', api: 'responses', base_url: url, upstream_model: 'gpt-upstream', ...SINGLE_ATTEMPT },
    chat: { adapter: 'openai', base_url: url, upstream_model: 'chat-upstream', ...SINGLE_ATTEMPT },
  })
  apiKeys = JSON.stringify(API_KEYS)
  gateway = await startWranglerDev(
    {
      DEFAULT_MODEL: 'chat',
      HEARTBEAT_MS: String(HEARTBEAT_MS),
      UPSTREAM_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
      MODELS: models,
      API_KEYS: apiKeys,
    },
    { ANTHROPIC_KEY: 'sk-ant-upstream' },
    { persistTo },
  )
}, 180_000)

afterAll(async () => {
  await gateway?.stop()
  await upstream?.stop()
  if (persistTo) rmSync(persistTo, { recursive: true, force: true })
})

// The provider's streams, with ids and model names the gateway's own encoders would not write.

const sse = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`

/** An Anthropic answer: its events up to the last text, and the end (`message_stop` last). */
function anthropicAnswer(pieces: string[]) {
  const start = sse('message_start', {
    message: {
      id: 'msg_relay_upstream',
      type: 'message',
      role: 'assistant',
      model: 'claude-relay-upstream',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 11, cache_read_input_tokens: 7, cache_creation_input_tokens: 0, output_tokens: 1 },
    },
  })
  return {
    open: [start, sse('content_block_start', { index: 0, content_block: { type: 'text', text: '' } })],
    text: (text: string) => sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text } }),
    pieces,
    close: [
      sse('content_block_stop', { index: 0 }),
      sse('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 9 } }),
      sse('message_stop', {}),
    ],
  }
}

/** A Responses answer; `response.completed` (with usage) last. */
function responsesAnswer(pieces: string[]) {
  let sequence = 0
  const event = (type: string, data: object) => sse(type, { sequence_number: sequence++, ...data })
  const response = (status: string, fields: object = {}) => ({
    id: 'resp_relay_upstream',
    object: 'response',
    model: 'gpt-relay-upstream',
    status,
    output: [],
    ...fields,
  })
  const usage = { input_tokens: 50, input_tokens_details: { cached_tokens: 32 }, output_tokens: 6, total_tokens: 56 }
  return {
    open: [event('response.created', { response: response('in_progress') })],
    text: (delta: string) =>
      event('response.output_text.delta', { item_id: 'msg_relay', output_index: 0, content_index: 0, delta }),
    pieces,
    close: [event('response.completed', { response: response('completed', { usage }) })],
  }
}

/** A Chat Completions answer; its usage chunk, then `data: [DONE]`, last. */
function chatAnswer(pieces: string[]) {
  const chunk = (fields: object) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-relay-upstream', object: 'chat.completion.chunk', created: 1, model: 'chat-relay-upstream', ...fields })}\n\n`
  const delta = (d: object, finish_reason: string | null = null) =>
    chunk({ choices: [{ index: 0, delta: d, finish_reason }] })
  return {
    open: [delta({ role: 'assistant', content: '' })],
    text: (content: string) => delta({ content }),
    pieces,
    close: [
      delta({}, 'stop'),
      chunk({ choices: [], usage: { prompt_tokens: 13, completion_tokens: 6, total_tokens: 19 } }),
      'data: [DONE]\n\n',
    ],
  }
}

type Answer = ReturnType<typeof anthropicAnswer>
const PIECES = ['Relayed', ' byte', ' for', ' byte,', ' é ✓', ' done.']
const wholeText = PIECES.join('')

/** Writes an answer: its opening, its text, then its end unless told to stop before it. */
async function writeAnswer(wire: Wire, answer: Answer, { end = true } = {}) {
  for (const event of answer.open) await wire.write(event)
  for (const piece of answer.pieces) await wire.write(answer.text(piece))
  if (end) for (const event of answer.close) await wire.write(event)
}

/** What each dialect's relay needs and says, and how its real SDK reads it. */
interface Dialect {
  name: string
  path: string
  answer(pieces: string[]): Answer
  body(word: string): object
  headers(key: string): Record<string, string>
  heartbeat: string
  /** The dialect's error event, as the gateway writes it after the provider's bytes (`code` where it has one). */
  errorEvent(code: string): RegExp
  /** The answer's text through the real SDK, streaming; rejects when the SDK raises. */
  sdkText(word: string): Promise<string>
  /** What the SDK raises on the dialect's error event. */
  apiError: typeof Anthropic.APIError | typeof OpenAI.APIError
}

const anthropic = () => new Anthropic({ baseURL: gateway.url, apiKey: keys.agent, maxRetries: 0, timeout: 20_000 })
const openai = () => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: keys.agent, maxRetries: 0, timeout: 20_000 })

const MESSAGES: Dialect = {
  name: 'Messages',
  path: '/v1/messages',
  answer: anthropicAnswer,
  body: (word) => ({ model: 'claude', max_tokens: 100, stream: true, messages: [{ role: 'user', content: word }] }),
  headers: (key) => ({ 'x-api-key': key, 'anthropic-version': '2023-06-01' }),
  apiError: Anthropic.APIError,
  heartbeat: 'event: ping\ndata: {"type": "ping"}\n\n',
  // Anthropic's error object carries a type and a message, no code.
  errorEvent: () => /event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"[^"]+"\}\}\n\n$/,
  async sdkText(word) {
    const message = await anthropic()
      .messages.stream({ model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: word }] })
      .finalMessage()
    return message.content.map((block) => (block.type === 'text' ? block.text : '')).join('')
  },
}

const RESPONSES: Dialect = {
  name: 'Responses',
  path: '/v1/responses',
  answer: responsesAnswer,
  body: (word) => ({ model: 'gpt', input: word, stream: true, store: false }),
  headers: (key) => ({ Authorization: `Bearer ${key}` }),
  apiError: OpenAI.APIError,
  heartbeat: ': ping\n\n',
  errorEvent: (code) =>
    new RegExp(`event: error\\ndata: \\{"type":"error","code":"${code}","message":"[^"]+","param":null\\}\\n\\n$`),
  async sdkText(word) {
    const stream = await openai().responses.create({ model: 'gpt', input: word, stream: true, store: false })
    let text = ''
    for await (const event of stream) if (event.type === 'response.output_text.delta') text += event.delta
    return text
  },
}

const CHAT: Dialect = {
  name: 'Chat Completions with include_usage',
  path: '/v1/chat/completions',
  answer: chatAnswer,
  body: (word) => ({
    model: 'chat',
    messages: [{ role: 'user', content: word }],
    stream: true,
    stream_options: { include_usage: true },
  }),
  headers: (key) => ({ Authorization: `Bearer ${key}` }),
  apiError: OpenAI.APIError,
  heartbeat: ': ping\n\n',
  errorEvent: (code) =>
    new RegExp(
      `data: \\{"error":\\{"message":"[^"]+","type":"(server|invalid_request)_error","code":"${code}","param":null\\}\\}\\n\\n$`,
    ),
  async sdkText(word) {
    const stream = await openai().chat.completions.create({
      model: 'chat',
      messages: [{ role: 'user', content: word }],
      stream: true,
      stream_options: { include_usage: true },
    })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    return text
  },
}

const DIALECTS = [MESSAGES, RESPONSES, CHAT]

let words = 0
/** A word no other request of this run carries, for the upstream to pick the request's script by. */
const wordFor = (what: string) => `[relay-${what}-${++words}]`

function post(
  dialect: Dialect,
  word: string,
  { key = keys.agent, signal = AbortSignal.timeout(20_000), body = {}, to = gateway } = {},
) {
  return fetch(`${to.url}${dialect.path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...dialect.headers(key) },
    body: JSON.stringify({ ...dialect.body(word), ...body }),
    signal,
  })
}

/** The whole body of a response, as text (every test's answer is valid UTF-8). */
async function bodyOf(response: Response): Promise<string> {
  expect(response.status).toBe(200)
  return new TextDecoder('utf-8', { fatal: true }).decode(await response.arrayBuffer())
}

/**
 * The answer in a body: without the heartbeats the opening sends when the upstream has not
 * answered within `HEARTBEAT_MS` (first-heartbeat.ts; a busy machine can take that long to
 * connect), which come before the first of the provider's bytes, from the gateway, not the relay.
 */
function answerIn(body: string, dialect: Dialect): string {
  while (body.startsWith(dialect.heartbeat)) body = body.slice(dialect.heartbeat.length)
  return body
}

/** Reads until `needle` has arrived; fails if the stream ends first. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, needle: string): Promise<string> {
  const decoder = new TextDecoder()
  let received = ''
  while (!received.includes(needle)) {
    const { done, value } = await reader.read()
    if (done) throw new Error(`the stream ended before ${needle}: ${received}`)
    received += decoder.decode(value, { stream: true })
  }
  return received
}

/** Waits for the script to be over (its connection closed), no longer than `ms`. */
async function settled(played: Played, ms: number) {
  await Promise.race([played.done, new Promise((resolve) => setTimeout(resolve, ms))])
}

/** The client leaves: the upstream must see its connection closed within 5 s, before `last` was written. */
async function leaveAndExpectClosed(client: AbortController, played: Played, last: string) {
  const leftAt = Date.now()
  client.abort()
  await settled(played, 6000)
  expect(played.closedAt).toBeDefined()
  expect(played.closedAt! - leftAt).toBeLessThan(5000)
  expect(played.written).not.toContain(last)
}

describe.each(DIALECTS)('$name: relayed', (dialect) => {
  it('byte for byte: the client’s body is exactly what the provider wrote', async () => {
    const word = wordFor('bytes')
    const played = upstream.play(word, (wire) => writeAnswer(wire, dialect.answer(PIECES)))
    const body = answerIn(await bodyOf(await post(dialect, word)), dialect)
    expect(played.written).toContain('Relayed')
    expect(body).toBe(played.written)
  })

  it('truncated (no end marker): the provider’s bytes, then the dialect’s error event', async () => {
    const word = wordFor('truncated')
    const played = upstream.play(word, (wire) => writeAnswer(wire, dialect.answer(PIECES), { end: false }))
    const body = answerIn(await bodyOf(await post(dialect, word)), dialect)
    expect(body.startsWith(played.written)).toBe(true)
    const tail = body.slice(played.written.length)
    expect(tail).toMatch(/^\n\n/)
    expect(tail).toMatch(dialect.errorEvent('upstream_truncated'))
  })

  it('truncated: the real SDK raises', async () => {
    const word = wordFor('truncated-sdk')
    upstream.play(word, (wire) => writeAnswer(wire, dialect.answer(PIECES), { end: false }))
    await expect(dialect.sdkText(word)).rejects.toBeInstanceOf(dialect.apiError)
  })

  it('reset mid-event: a blank line ends the half event, then the error event; the SDK raises on it', async () => {
    const answer = dialect.answer(PIECES)
    const resetting = async (wire: Wire) => {
      await writeAnswer(wire, answer, { end: false })
      // The next event cut inside its first line ("eve", "dat"): a field no parser knows, and no
      // data, so the half event is nothing to the client, unless the gateway glued its error to it.
      await wire.write(answer.close[0]!.slice(0, 3), 50)
      wire.reset()
    }
    const word = wordFor('reset')
    const played = upstream.play(word, resetting)
    const body = answerIn(await bodyOf(await post(dialect, word)), dialect)
    expect(body.startsWith(played.written)).toBe(true)
    const tail = body.slice(played.written.length)
    expect(tail).toMatch(/^\n\n/)
    expect(tail).toMatch(dialect.errorEvent('upstream_connection_lost'))

    const sdkWord = wordFor('reset-sdk')
    upstream.play(sdkWord, resetting)
    await expect(dialect.sdkText(sdkWord)).rejects.toBeInstanceOf(dialect.apiError)
  })

  it('client leaves mid-stream: the upstream’s connection is closed within 5 s, long before its end', async () => {
    const TOKENS = 400
    const word = wordFor('leave')
    const answer = dialect.answer([])
    const played = upstream.play(word, async (wire) => {
      for (const event of answer.open) await wire.write(event)
      // A token every 20 ms: about 8 s for the whole answer.
      for (let i = 0; i < TOKENS && !wire.closed; i++) await wire.write(answer.text(` t${i}`), 20)
      for (const event of answer.close) await wire.write(event)
    })
    const controller = new AbortController()
    const response = await post(dialect, word, { signal: controller.signal })
    expect(response.status).toBe(200)
    await readUntil(response.body!.getReader(), ' t10')
    await leaveAndExpectClosed(controller, played, ` t${TOKENS - 1}`)
  })

  it('client leaves after a silence (the relay in JavaScript): the upstream is closed too', async () => {
    const TOKENS = 400
    const word = wordFor('leave-after-silence')
    const answer = dialect.answer([])
    const played = upstream.play(word, async (wire) => {
      for (const event of answer.open) await wire.write(event)
      await wire.write(answer.text(' before'), 3 * HEARTBEAT_MS)
      for (let i = 0; i < TOKENS && !wire.closed; i++) await wire.write(answer.text(` t${i}`), 20)
      for (const event of answer.close) await wire.write(event)
    })
    const controller = new AbortController()
    const response = await post(dialect, word, { signal: controller.signal })
    const received = await readUntil(response.body!.getReader(), ' t10')
    // The silence had heartbeats: the pipe had been stopped, and the relay writes in JavaScript.
    expect(received).toContain(dialect.heartbeat)
    await leaveAndExpectClosed(controller, played, ` t${TOKENS - 1}`)
  })

  it('client leaves during a silence inside an event: the upstream is closed by the idle timeout, not kept', async () => {
    // No heartbeat can go out inside an event, and only a failed write tells the Worker its
    // client has gone (`request.signal` does not fire under wrangler dev): the idle timeout does.
    for (const mode of ['native', 'javascript'] as const) {
      const answer = dialect.answer([])
      const word = wordFor(`leave-inside-event-${mode}`)
      const played = upstream.play(word, async (wire) => {
        for (const event of answer.open) await wire.write(event)
        // After a silence at an event's end the relay writes in JavaScript.
        if (mode === 'javascript') await wire.write(answer.text(' before'), 3 * HEARTBEAT_MS)
        await wire.write(answer.text(' ready'), 50)
        const next = answer.text(' never')
        await wire.write(next.slice(0, next.length - 10), 4 * IDLE_TIMEOUT_MS)
        await wire.write(next.slice(next.length - 10))
      })
      const controller = new AbortController()
      const response = await post(dialect, word, { signal: controller.signal })
      await readUntil(response.body!.getReader(), ' ready')
      const leftAt = Date.now()
      controller.abort()
      await settled(played, IDLE_TIMEOUT_MS + 3000)
      expect(played.closedAt, mode).toBeDefined()
      expect(played.closedAt! - leftAt, mode).toBeLessThan(IDLE_TIMEOUT_MS + 1500)
    }
  })

  it('idle inside an event, still in the native pipe: a blank line, then the error event', async () => {
    const answer = dialect.answer(PIECES)
    const word = wordFor('idle-inside-event')
    const played = upstream.play(word, async (wire) => {
      for (const event of answer.open) await wire.write(event)
      // The first text opens the answer; the next one stops halfway.
      await wire.write(answer.text(PIECES[0]!), 50)
      const next = answer.text(PIECES[1]!)
      await wire.write(next.slice(0, next.length - 10), 4 * IDLE_TIMEOUT_MS)
      await wire.write(next.slice(next.length - 10))
    })
    const startedAt = Date.now()
    const body = answerIn(await bodyOf(await post(dialect, word)), dialect)
    expect(Date.now() - startedAt).toBeLessThan(IDLE_TIMEOUT_MS + 2000)
    await settled(played, 3000)
    expect(played.closedAt).toBeDefined()
    expect(body).not.toContain(dialect.heartbeat)
    expect(body.startsWith(played.written)).toBe(true)
    const tail = body.slice(played.written.length)
    expect(tail).toMatch(/^\n\n/)
    expect(tail).toMatch(dialect.errorEvent('upstream_idle_timeout'))
  })

  it('silence mid-answer: heartbeats during it, then the rest intact, ending with the provider’s marker', async () => {
    const answer = dialect.answer(PIECES)
    const pausing = async (wire: Wire) => {
      for (const event of answer.open) await wire.write(event)
      for (const [i, piece] of PIECES.entries()) {
        // About three heartbeats of silence halfway through the text.
        await wire.write(answer.text(piece), i === 2 ? 3 * HEARTBEAT_MS + 200 : 2)
      }
      for (const event of answer.close) await wire.write(event)
    }
    const word = wordFor('silence')
    const played = upstream.play(word, pausing)
    const body = await bodyOf(await post(dialect, word))
    const beats = body.split(dialect.heartbeat).length - 1
    expect(beats).toBeGreaterThanOrEqual(2)
    // Every heartbeat falls between two of the provider's events, and nothing else was added,
    // lost or sent twice.
    expect(body.replaceAll(dialect.heartbeat, '')).toBe(played.written)
    expect(body.endsWith(answer.close.at(-1)!)).toBe(true)

    const sdkWord = wordFor('silence-sdk')
    upstream.play(sdkWord, pausing)
    expect(await dialect.sdkText(sdkWord)).toBe(wholeText)
  })

  it('silence inside an event: no heartbeat splits it, and the answer arrives whole', async () => {
    const answer = dialect.answer(PIECES)
    const splitting = async (wire: Wire) => {
      for (const event of answer.open) await wire.write(event)
      for (const [i, piece] of PIECES.entries()) {
        const event = answer.text(piece)
        if (i !== 2) {
          await wire.write(event)
          continue
        }
        // Half an event, as a network that stalls between two packets delivers it, then silence.
        const half = event.indexOf(JSON.stringify(piece))
        await wire.write(event.slice(0, half), 3 * HEARTBEAT_MS + 200)
        await wire.write(event.slice(half))
      }
      for (const event of answer.close) await wire.write(event)
    }
    const word = wordFor('split-silence')
    const played = upstream.play(word, splitting)
    const body = await bodyOf(await post(dialect, word))
    // A heartbeat, if any, only where an event has ended.
    for (let at = body.indexOf(dialect.heartbeat); at !== -1; at = body.indexOf(dialect.heartbeat, at + 1)) {
      expect(body.slice(0, at)).toMatch(/(^|\n\n)$/)
    }
    expect(body.replaceAll(dialect.heartbeat, '')).toBe(played.written)

    const sdkWord = wordFor('split-silence-sdk')
    upstream.play(sdkWord, splitting)
    expect(await dialect.sdkText(sdkWord)).toBe(wholeText)
  })

  it('truncated or reset after a silence (the relay in JavaScript): the error event still ends it', async () => {
    const answer = dialect.answer(PIECES)
    for (const how of ['truncated', 'reset'] as const) {
      const word = wordFor(`${how}-after-silence`)
      const played = upstream.play(word, async (wire) => {
        for (const event of answer.open) await wire.write(event)
        await wire.write(answer.text(PIECES[0]!), 3 * HEARTBEAT_MS)
        await wire.write(answer.text(PIECES[1]!), 50)
        if (how === 'reset') wire.reset()
      })
      const body = (await bodyOf(await post(dialect, word))).replaceAll(dialect.heartbeat, '')
      expect(body.startsWith(played.written)).toBe(true)
      const tail = body.slice(played.written.length)
      expect(tail).toMatch(/^\n\n/)
      expect(tail).toMatch(dialect.errorEvent(how === 'reset' ? 'upstream_connection_lost' : 'upstream_truncated'))
    }
  })

  it('idle past UPSTREAM_IDLE_TIMEOUT_MS: heartbeats, then the error event with upstream_idle_timeout', async () => {
    const answer = dialect.answer(PIECES)
    const word = wordFor('idle')
    const played = upstream.play(word, async (wire) => {
      for (const event of answer.open) await wire.write(event)
      await wire.write(answer.text(PIECES[0]!), IDLE_TIMEOUT_MS + 2500)
      for (const piece of PIECES.slice(1)) await wire.write(answer.text(piece))
      for (const event of answer.close) await wire.write(event)
    })
    const startedAt = Date.now()
    const body = await bodyOf(await post(dialect, word))
    expect(Date.now() - startedAt).toBeLessThan(IDLE_TIMEOUT_MS + 2000)
    await settled(played, 5000)
    // The gateway gave up on the upstream: it closed the connection before the rest was written.
    expect(played.closedAt! - startedAt).toBeLessThan(IDLE_TIMEOUT_MS + 2000)
    expect(played.written).not.toContain(PIECES[1])
    expect(body).toContain(dialect.heartbeat)
    const relayed = body.replaceAll(dialect.heartbeat, '')
    expect(relayed.startsWith(played.written)).toBe(true)
    const tail = relayed.slice(played.written.length)
    expect(tail).toMatch(/^\n\n/)
    expect(tail).toMatch(dialect.errorEvent('upstream_idle_timeout'))
    if (dialect === MESSAGES) expect(tail).toContain('went silent for too long')
  })
})

describe('a provider’s own error mid-answer', () => {
  const cases = [
    {
      dialect: MESSAGES,
      error: sse('error', { error: { type: 'overloaded_error', message: 'Overloaded' } }),
    },
    {
      dialect: RESPONSES,
      error: sse('response.failed', {
        sequence_number: 9,
        response: {
          id: 'resp_relay_upstream',
          object: 'response',
          status: 'failed',
          output: [],
          error: { code: 'server_error', message: 'boom' },
        },
      }),
    },
  ]
  it.each(cases)(
    '$dialect.name: relayed, then the gateway’s error event; the SDK raises',
    async ({ dialect, error }) => {
      const failing = async (wire: Wire) => {
        await writeAnswer(wire, dialect.answer(PIECES.slice(0, 2)), { end: false })
        await wire.write(error)
      }
      const word = wordFor('provider-error')
      const played = upstream.play(word, failing)
      const body = answerIn(await bodyOf(await post(dialect, word)), dialect)
      expect(played.written).toContain(error)
      expect(body.startsWith(played.written)).toBe(true)
      const tail = body.slice(played.written.length)
      expect(tail).toMatch(/^\n\n(event: error\ndata: [^\n]+\n\n)$/)

      const sdkWord = wordFor('provider-error-sdk')
      upstream.play(sdkWord, failing)
      await expect(dialect.sdkText(sdkWord)).rejects.toBeInstanceOf(dialect.apiError)
    },
  )
})

describe('Chat Completions without include_usage', () => {
  it('is not relayed: the gateway’s own chunks, its id, no usage chunk', async () => {
    const word = wordFor('chat-no-usage')
    const played = upstream.play(word, (wire) => writeAnswer(wire, chatAnswer(PIECES)))
    const body = await bodyOf(await post(CHAT, word, { body: { stream_options: { include_usage: false } } }))
    expect(body).not.toBe(played.written)
    expect(body).not.toContain('chatcmpl-relay-upstream')
    expect(body).toMatch(/"id":"chat_[0-9a-f-]{36}"/)
    expect(body).not.toContain('"usage"')
    const text = [...body.matchAll(/"content":("(?:[^"\\]|\\.)*")/g)].map((m) => JSON.parse(m[1]!) as string).join('')
    expect(text).toBe(wholeText)
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true)
    // The upstream was still asked for usage (the ledger needs it), so it was the gateway that left it out.
    expect(JSON.parse(played.body)).toMatchObject({ stream_options: { include_usage: true } })
  })
})

describe('the ledger after a relayed answer', () => {
  interface Day {
    requests: number
    prompt_tokens: number
    completion_tokens: number
    cache_read_tokens: number
    errors: number
  }
  /** The key's only day row, once the local queue has delivered `requests` answers to the ledger. */
  async function dayOf(key: string, requests = 1): Promise<Day> {
    let day: Day | undefined
    await expect
      .poll(
        async () => {
          const response = await fetch(`${gateway.url}/api/usage?days=1`, {
            headers: { Authorization: `Bearer ${key}` },
          })
          day = ((await response.json()) as { days: Day[] }).days[0]
          return day?.requests ?? 0
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe(requests)
    return day!
  }

  it('records exactly the provider’s usage: Messages with a cache read, Responses, Chat', async () => {
    const cases = [
      { dialect: MESSAGES, key: keys.usageMessages },
      { dialect: RESPONSES, key: keys.usageResponses },
      { dialect: CHAT, key: keys.usageChat },
    ]
    for (const { dialect, key } of cases) {
      const word = wordFor('usage')
      const played = upstream.play(word, (wire) => writeAnswer(wire, dialect.answer(PIECES)))
      expect(answerIn(await bodyOf(await post(dialect, word, { key })), dialect)).toBe(played.written)
    }
    // Anthropic's input_tokens is the uncached rest: 11 + 7 read from the cache.
    expect(await dayOf(keys.usageMessages)).toMatchObject({
      prompt_tokens: 18,
      cache_read_tokens: 7,
      completion_tokens: 9,
      errors: 0,
    })
    expect(await dayOf(keys.usageResponses)).toMatchObject({
      prompt_tokens: 50,
      cache_read_tokens: 32,
      completion_tokens: 6,
      errors: 0,
    })
    expect(await dayOf(keys.usageChat)).toMatchObject({
      prompt_tokens: 13,
      cache_read_tokens: 0,
      completion_tokens: 6,
      errors: 0,
    })
  })

  it('records a truncated answer as an error, upstream_truncated', async () => {
    const word = wordFor('usage-cut')
    upstream.play(word, (wire) => writeAnswer(wire, anthropicAnswer(PIECES), { end: false }))
    await bodyOf(await post(MESSAGES, word, { key: keys.usageCut }))
    expect(await dayOf(keys.usageCut)).toMatchObject({ requests: 1, errors: 1 })
    const response = await fetch(`${gateway.url}/api/admin/requests?principal=usageCut`, {
      headers: { Authorization: `Bearer ${keys.ops}` },
    })
    const { rows } = (await response.json()) as { rows: Array<{ outcome: string; error_code: string | null }> }
    expect(rows).toEqual([expect.objectContaining({ outcome: 'error', error_code: 'upstream_truncated' })])
  })
})

describe('past STREAM_DEADLINE_MS, in the native pipe', () => {
  const DEADLINE_MS = 1500
  let deadlined: WranglerDev

  beforeAll(async () => {
    deadlined = await startWranglerDev(
      { DEFAULT_MODEL: 'chat', STREAM_DEADLINE_MS: String(DEADLINE_MS), MODELS: models, API_KEYS: apiKeys },
      { ANTHROPIC_KEY: 'sk-ant-upstream' },
    )
  }, 120_000)

  afterAll(async () => {
    await deadlined?.stop()
  })

  it.each(DIALECTS)('$name: cut at the deadline with deadline_exceeded, the upstream closed', async (dialect) => {
    const TOKENS = 250
    const answer = dialect.answer([])
    const word = wordFor('deadline')
    const played = upstream.play(word, async (wire) => {
      for (const event of answer.open) await wire.write(event)
      // A steady answer (no silence, so the native pipe carries it all along): about 5 s.
      for (let i = 0; i < TOKENS && !wire.closed; i++) await wire.write(answer.text(` t${i}`), 20)
      for (const event of answer.close) await wire.write(event)
    })
    const startedAt = Date.now()
    const body = await bodyOf(await post(dialect, word, { to: deadlined }))
    expect(Date.now() - startedAt).toBeLessThan(DEADLINE_MS + 2000)
    await settled(played, 3000)
    expect(played.written).not.toContain(` t${TOKENS - 1}`)
    // The provider's bytes as far as they went, a blank line, and the error event.
    const separator = body.lastIndexOf('\n\n', body.length - 3)
    expect(played.written.startsWith(body.slice(0, separator))).toBe(true)
    expect(body.slice(0, separator)).toContain(' t0')
    expect(body.slice(separator)).toMatch(/^\n\n/)
    expect(body.slice(separator)).toMatch(dialect.errorEvent('deadline_exceeded'))
    if (dialect === MESSAGES) expect(body).toContain('took longer than the gateway allows')
  })
})
