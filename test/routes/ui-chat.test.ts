import { DefaultChatTransport, type UIMessage } from 'ai'
import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { demoReply } from '../../src/providers/demo/reply'
import app from '../../src/index'
import type { AnswerStream } from '../../src/streams/answer-stream'
import { chatIndexName } from '../../src/streams/chat-index'
import { parseEventStream } from '../helpers/sse'
import { openAI } from '../helpers/upstream'
import { readWithSdk, textOfMessage } from '../helpers/ui-stream'
import { BASE, readStream, streamEnv, until } from '../streams/helpers'

const testEnv = () =>
  streamEnv({
    MODELS: {
      demo: { adapter: 'demo', token_delay_ms: 0 },
      silent: { adapter: 'demo', token_delay_ms: 0, silence_after_tokens: 3, silence_ms: 60_000 },
      flaky: { adapter: 'demo', token_delay_ms: 0, fail_after_tokens: 5 },
      gated: { adapter: 'openai', base_url: 'https://upstream.test/v1', upstream_model: 'm' },
    },
    // A reader whose client left is let go of at the object's next write: heartbeats bound the wait.
    HEARTBEAT_MS: '50',
  })

afterEach(() => vi.restoreAllMocks())

/** An OpenAI-style upstream (in place of `fetch`) that sends "First" and holds the rest until released. */
function gatedUpstream() {
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  const utf8 = new TextEncoder()
  vi.spyOn(globalThis, 'fetch').mockImplementation(async () => {
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(utf8.encode(openAI.text('First')))
        await gate
        // Unless the gateway has hung up on it by then.
        try {
          controller.enqueue(
            utf8.encode(openAI.text(' and the rest.') + openAI.finish() + openAI.usage(1, 2) + openAI.done),
          )
          controller.close()
        } catch {
          // cancelled
        }
      },
    })
    return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } })
  })
  return { release }
}

let chats = 0
/** A chat id of the kind the SDK makes up on the client, unique per test. */
const newChatId = () => `chat-${Date.now()}-${++chats}`

const userMessage = (text: string, id = 'u1'): UIMessage => ({ id, role: 'user', parts: [{ type: 'text', text }] })

/**
 * The test is one browser: every request carries the same owner token (`X-Chat-Owner`, as an
 * app on another site sends it; the cookie flow is tested in test/security/chat-ownership).
 */
const OWNER = 'ui-chat-test-owner-0123456789'
const asOwner = (init: RequestInit = {}): RequestInit => {
  const headers = new Headers(init.headers)
  headers.set('X-Chat-Owner', OWNER)
  return { ...init, headers }
}

function request(path: string, init: RequestInit = {}) {
  return app.request(`${BASE}${path}`, asOwner(init), testEnv())
}

/** The SDK's own transport, with the Worker in place of the network. */
function transport(options: ConstructorParameters<typeof DefaultChatTransport>[0] = {}) {
  return new DefaultChatTransport({
    api: `${BASE}/api/ui/chat`,
    fetch: async (input, init) =>
      app.request(input instanceof Request ? input : String(input), asOwner(init), testEnv()),
    ...options,
  })
}

async function send(chatId: string, messages: UIMessage[], body: object = {}) {
  const stream = await transport({ body }).sendMessages({
    chatId,
    messages,
    trigger: 'submit-message',
    messageId: undefined,
    abortSignal: undefined,
  })
  return stream
}

function post(body: unknown) {
  return request('/api/ui/chat', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
}

async function errorOf(response: Response) {
  expect(response.headers.get('Content-Type')).toMatch(/^application\/json/)
  return ((await response.json()) as { error: { code: string; message: string; issues?: unknown[] } }).error
}

/** The stream id the chat index names for a chat (the test can look; a client never can). */
async function activeStreamOf(chatId: string): Promise<string | null> {
  const namespace = env.CHAT_INDEX!
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(OWNER)))
  const owner = `owner:${[...digest].map((b) => b.toString(16).padStart(2, '0')).join('')}`
  return namespace.get(namespace.idFromName(chatIndexName(owner, chatId))).active()
}

function answerObject(streamId: string) {
  const namespace = env.ANSWER_STREAMS!
  return namespace.get(namespace.idFromName(`ui-chat:${streamId}`))
}

const hello = 'Hello, useChat'
const helloReply = demoReply([{ role: 'user', content: hello }])

describe('POST /api/ui/chat with the AI SDK’s DefaultChatTransport', () => {
  it('streams the answer as a UI message stream that readUIMessageStream turns into the whole message', async () => {
    const { message, chunks, error } = await readWithSdk(await send(newChatId(), [userMessage(hello)]))
    expect(error).toBeUndefined()
    expect(message!.role).toBe('assistant')
    expect(message!.id).toMatch(/^msg_/)
    expect(textOfMessage(message)).toBe(helloReply)
    expect(message!.metadata).toMatchObject({
      model: 'demo',
      upstream: 'demo',
      usage: { total_tokens: expect.any(Number) },
    })
    expect(chunks.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' })
  })

  it('answers with the protocol’s header and our streaming headers, and ends with [DONE]', async () => {
    const response = await post({ id: newChatId(), messages: [userMessage(hello)], trigger: 'submit-message' })
    expect(response.status).toBe(200)
    expect(response.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1')
    expect(response.headers.get('Content-Type')).toBe('text/event-stream; charset=utf-8')
    expect(response.headers.get('Cache-Control')).toBe('no-cache, no-transform')
    // A resumable answer, kept in its object, says how many upstream requests it took.
    expect(response.headers.get('X-Gateway-Attempts')).toBe('1')
    const body = await response.text()
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true)
    // The stream's id, the capability to the answer, appears nowhere in it.
    expect(body).not.toMatch(/"[A-Za-z0-9_-]{24}"/)
  })

  it('takes the model and the app’s own fields from the body; earlier turns go as history', async () => {
    const messages: UIMessage[] = [
      userMessage('first question', 'u1'),
      {
        id: 'a1',
        role: 'assistant',
        parts: [
          { type: 'step-start' },
          { type: 'reasoning', text: 'thinking that is not sent back', state: 'done' },
          { type: 'text', text: 'first answer', state: 'done' },
          { type: 'data-weather', data: { city: 'Paris' } },
        ],
      },
      userMessage('second question', 'u2'),
    ]
    const { message } = await readWithSdk(await send(newChatId(), messages, { model: 'demo', sessionId: 'app-field' }))
    expect(textOfMessage(message)).toBe(
      demoReply([
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: 'first answer' },
        { role: 'user', content: 'second question' },
      ]),
    )
  })

  it('a failure mid-answer surfaces as the SDK’s error, and the message never finishes', async () => {
    const { message, chunks, error } = await readWithSdk(
      await send(newChatId(), [userMessage(hello)], { model: 'flaky' }),
    )
    expect(error).toBeInstanceOf(Error)
    expect(error!.message).toMatch(/./)
    expect(chunks.some((c) => c.type === 'finish')).toBe(false)
    expect(textOfMessage(message).length).toBeGreaterThan(0)
    expect(message!.parts.findLast((p) => p.type === 'text')).toMatchObject({ state: 'streaming' })
  })

  it('a chat has one active answer: a new message stops the one still running', async () => {
    const chatId = newChatId()
    const first = readStream(await post({ id: chatId, messages: [userMessage(hello)], model: 'silent' }))
    while (!first.text.includes('text-delta')) await first.more()
    const firstStream = await activeStreamOf(chatId)
    const { message } = await readWithSdk(await send(chatId, [userMessage(hello)]))
    expect(textOfMessage(message)).toBe(helloReply)
    await first.rest()
    expect(first.text).toContain('data: {"type":"abort","reason":"The answer was stopped."}')
    expect(await activeStreamOf(chatId)).not.toBe(firstStream)
  })
})

describe('POST /api/ui/chat with resumable: false (straight from the pipeline, nothing kept)', () => {
  it('streams the same UI message stream, which the SDK turns into the whole message', async () => {
    const chatId = newChatId()
    const { message, chunks, error } = await readWithSdk(await send(chatId, [userMessage(hello)], { resumable: false }))
    expect(error).toBeUndefined()
    expect(textOfMessage(message)).toBe(helloReply)
    expect(message!.metadata).toMatchObject({ model: 'demo', usage: { total_tokens: expect.any(Number) } })
    expect(chunks.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' })
    // Nothing was kept, so there is nothing to resume.
    expect(await activeStreamOf(chatId)).toBeNull()
    expect((await request(`/api/ui/chat/${chatId}/stream`)).status).toBe(204)
  })

  it('a failure mid-answer is the SDK’s error, never a finished message', async () => {
    const stream = await send(newChatId(), [userMessage(hello)], { resumable: false, model: 'flaky' })
    const { chunks, error } = await readWithSdk(stream)
    expect(error).toBeDefined()
    expect(chunks.some((chunk) => chunk.type === 'finish')).toBe(false)
  })

  it('the client leaving cancels the upstream, as on /api/chat', async () => {
    const upstream = gatedUpstream()
    let cancelled = false
    const fetchSpy = vi.mocked(globalThis.fetch)
    const real = fetchSpy.getMockImplementation()!
    fetchSpy.mockImplementation(async (...args) => {
      const response = await real(...args)
      const reader = response.body!.getReader()
      const body = new ReadableStream<Uint8Array>({
        pull: async (controller) => {
          const { done, value } = await reader.read()
          if (done) controller.close()
          else controller.enqueue(value)
        },
        cancel: (reason) => {
          cancelled = true
          return reader.cancel(reason)
        },
      })
      return new Response(body, response)
    })
    const response = await post({
      id: newChatId(),
      model: 'gated',
      resumable: false,
      messages: [userMessage(hello)],
      trigger: 'submit-message',
    })
    const reading = readStream(response)
    while (!reading.text.includes('First')) await reading.more()
    await reading.cancel()
    await until(() => cancelled)
    upstream.release()
  })

  it('refuses a resumable field that is not true or false', async () => {
    const response = await post({ id: newChatId(), resumable: 'no', messages: [userMessage(hello)] })
    expect(response.status).toBe(400)
    expect(await errorOf(response)).toMatchObject({ code: 'invalid_request', issues: [{ path: 'resumable' }] })
  })
})

describe('refusals on POST /api/ui/chat', () => {
  const valid = () => ({ id: newChatId(), messages: [userMessage(hello)] })

  it('refuses a file part with a 400 naming it, never dropping it', async () => {
    const body = valid()
    body.messages[0]!.parts.push({ type: 'file', mediaType: 'image/png', url: 'data:image/png;base64,AAAA' })
    const response = await post(body)
    expect(response.status).toBe(400)
    expect(await errorOf(response)).toMatchObject({
      code: 'unsupported_parameter',
      issues: [{ path: 'messages.0.parts.1' }],
    })
  })

  it('refuses tool parts, dynamic tools and the tool fields, each named', async () => {
    const body = {
      ...valid(),
      tools: [{ type: 'function', function: { name: 'get_weather' } }],
      messages: [
        userMessage('weather?'),
        {
          id: 'a1',
          role: 'assistant',
          parts: [
            { type: 'tool-getWeather', toolCallId: 'c1', state: 'output-available', input: {}, output: {} },
            { type: 'dynamic-tool', toolName: 'x', toolCallId: 'c2', state: 'input-available', input: {} },
            { type: 'text', text: 'Sunny.' },
          ],
        },
        userMessage('thanks'),
      ],
    }
    const error = await errorOf(await post(body))
    expect(error.code).toBe('unsupported_parameter')
    expect(error.issues).toEqual([
      { path: 'tools', message: expect.any(String) },
      { path: 'messages.1.parts.0', message: expect.stringContaining('tool-getWeather') },
      { path: 'messages.1.parts.1', message: expect.stringContaining('dynamic-tool') },
    ])
  })

  it('reports the schema’s issues at the UI message’s own path, even when an empty message was left out', async () => {
    const body = {
      id: newChatId(),
      messages: [
        userMessage('one'),
        { id: 'a0', role: 'assistant', parts: [{ type: 'step-start' }] }, // stopped before any text: left out
        userMessage('x'.repeat(40_000)),
      ],
    }
    expect(await errorOf(await post(body))).toMatchObject({
      code: 'invalid_request',
      issues: [{ path: 'messages.2.parts' }],
    })
  })

  it('refuses a missing chat id, a bad role, a part with no type, an unknown model, bad JSON and other media types', async () => {
    expect(await errorOf(await post({ messages: [userMessage(hello)] }))).toMatchObject({
      code: 'invalid_request',
      issues: [{ path: 'id' }],
    })
    const badRole = { ...valid(), messages: [{ id: 't', role: 'tool', parts: [] }] }
    expect(await errorOf(await post(badRole))).toMatchObject({ issues: [{ path: 'messages.0.role' }] })
    const noType = { ...valid(), messages: [{ id: 'u', role: 'user', parts: [{ text: 'hi' }] }] }
    expect(await errorOf(await post(noType))).toMatchObject({ issues: [{ path: 'messages.0.parts.0.type' }] })
    expect(await errorOf(await post({ ...valid(), model: 'gpt-17' }))).toMatchObject({ code: 'unknown_model' })
    expect(await errorOf(await post({ ...valid(), temperature: 9 }))).toMatchObject({
      issues: [{ path: 'temperature' }],
    })
    const badJson = await request('/api/ui/chat', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{',
    })
    expect(await errorOf(badJson)).toMatchObject({ code: 'invalid_json' })
    const text = await request('/api/ui/chat', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'x' })
    expect(text.status).toBe(415)
    const wrongMethod = await request('/api/ui/chat')
    expect(wrongMethod.status).toBe(405)
    expect(wrongMethod.headers.get('Allow')).toBe('POST')
  })
})

describe('resume: GET /api/ui/chat/{chatId}/stream', () => {
  it('answers 204 for a chat with no answer, which the SDK reads as nothing to resume', async () => {
    expect((await request(`/api/ui/chat/${newChatId()}/stream`)).status).toBe(204)
    expect(await transport().reconnectToStream({ chatId: newChatId() })).toBeNull()
  })

  it('answers 204 once the answer has been read to its end', async () => {
    const chatId = newChatId()
    await readWithSdk(await send(chatId, [userMessage(hello)]))
    expect(await transport().reconnectToStream({ chatId })).toBeNull()
  })

  it('replays a running answer from the start and continues it; DELETE stops it with the protocol’s abort', async () => {
    const chatId = newChatId()
    const first = readStream(await post({ id: chatId, messages: [userMessage(hello)], model: 'silent' }))
    while ((first.text.match(/text-delta/g) ?? []).length < 3) await first.more()
    await first.cancel() // the page reloads

    const resumed = readWithSdk((await transport().reconnectToStream({ chatId }))!)
    const stop = await request(`/api/ui/chat/${chatId}/stream`, { method: 'DELETE' })
    expect(stop.status).toBe(204)
    const { message, chunks, error } = await resumed
    expect(error).toBeUndefined()
    expect(chunks.at(-1)).toEqual({ type: 'abort', reason: 'The answer was stopped.' })
    expect(chunks.some((c) => c.type === 'finish')).toBe(false)
    expect(textOfMessage(message)).toBe(helloReply.match(/^(\s*\S+){3}/)![0])
    // Stopping again is harmless; the stopped answer is over, so there is nothing to resume.
    expect((await request(`/api/ui/chat/${chatId}/stream`, { method: 'DELETE' })).status).toBe(204)
    expect((await request(`/api/ui/chat/${chatId}/stream`)).status).toBe(204)
  })

  it('a connection cut before the end still gets the whole answer, even once it has ended; then 204', async () => {
    const upstream = gatedUpstream()
    const chatId = newChatId()
    const first = readStream(await post({ id: chatId, messages: [userMessage(hello)], model: 'gated' }))
    while (!first.text.includes('text-delta')) await first.more()
    await first.cancel()
    const streamId = (await activeStreamOf(chatId))!
    const readers = () => runInDurableObject(answerObject(streamId), (o: AnswerStream) => o.readerCount)
    await until(async () => (await readers()) === 0)
    upstream.release()
    // The answer ends with nobody reading it: it is still the chat's active answer.
    await until(() =>
      runInDurableObject(answerObject(streamId), (_: AnswerStream, state) =>
        state.storage.sql.exec<{ meta: string }>('SELECT meta FROM stream').one().meta.includes('"state":"ended"'),
      ),
    )
    const { message, chunks } = await readWithSdk((await transport().reconnectToStream({ chatId }))!)
    expect(textOfMessage(message)).toBe('First and the rest.')
    expect(chunks.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' })
    // Someone has now read it whole: it is no longer active.
    expect(await transport().reconnectToStream({ chatId })).toBeNull()
  })

  // One resumption per event of the demo answer (about 150): slower than most tests here.
  it(
    'with Last-Event-ID, resumes after any event with a sequence the SDK accepts; after the last, 204',
    { timeout: 30_000 },
    async () => {
      const chatId = newChatId()
      const whole = await (await post({ id: chatId, messages: [userMessage(hello)] })).text()
      const ids = parseEventStream(whole)
        .events.map((e) => Number(e.id))
        .filter(Boolean)
      const last = ids.at(-1)!
      const texts: string[] = []
      for (let afterId = 0; afterId < last; afterId++) {
        const resumed = transport({ headers: { 'Last-Event-ID': String(afterId) } })
        const { message, error, chunks } = await readWithSdk((await resumed.reconnectToStream({ chatId }))!)
        expect(error, `after ${afterId}`).toBeUndefined()
        expect(chunks.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' })
        if (afterId === 0) expect(textOfMessage(message)).toBe(helloReply)
        // The text from `afterId` on is a suffix of the answer, ending it exactly.
        expect(helloReply.endsWith(textOfMessage(message))).toBe(true)
        texts.push(textOfMessage(message))
      }
      // Each later start has less of the answer, and some start mid-answer with a part of it.
      expect(texts.every((text, i) => i === 0 || text.length <= texts[i - 1]!.length)).toBe(true)
      expect(texts.some((text) => text.length > 0 && text.length < helloReply.length)).toBe(true)
      const done = await request(`/api/ui/chat/${chatId}/stream`, { headers: { 'Last-Event-ID': String(last) } })
      expect(done.status).toBe(204)
      const bad = await request(`/api/ui/chat/${chatId}/stream`, { headers: { 'Last-Event-ID': 'x' } })
      expect(await errorOf(bad)).toMatchObject({ code: 'invalid_request', issues: [{ path: 'Last-Event-ID' }] })
    },
  )

  it('finds chat ids the SDK URL-encodes, and refuses ids longer than a chat id may be', async () => {
    const chatId = `chat with/odd ?chars ${newChatId()}`
    const first = readStream(await post({ id: chatId, messages: [userMessage(hello)], model: 'silent' }))
    await first.more()
    await first.cancel()
    const resumed = await transport().reconnectToStream({ chatId })
    expect(resumed).not.toBeNull()
    await resumed!.cancel()
    expect((await request(`/api/ui/chat/${encodeURIComponent(chatId)}/stream`, { method: 'DELETE' })).status).toBe(204)
    const long = await request(`/api/ui/chat/${'x'.repeat(300)}/stream`)
    expect(await errorOf(long)).toMatchObject({ code: 'invalid_request', issues: [{ path: 'chatId' }] })
  })

  it('DELETE for a chat with no answer is a 404 with a JSON body; other methods a 405', async () => {
    const response = await request(`/api/ui/chat/${newChatId()}/stream`, { method: 'DELETE' })
    expect(response.status).toBe(404)
    expect(await errorOf(response)).toMatchObject({ code: 'chat_not_found' })
    const put = await request(`/api/ui/chat/${newChatId()}/stream`, { method: 'PUT' })
    expect(put.status).toBe(405)
    expect(put.headers.get('Allow')).toBe('GET, DELETE')
  })
})
