import { APICallError, DefaultChatTransport, readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CuttingProxy } from './cutting-proxy'
import { TestUpstream, testModels } from './upstream-server'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * `/api/ui/chat` under `wrangler dev`, read by the installed AI SDK (`ai` 7.0.173) exactly as
 * `useChat` reads it: `DefaultChatTransport` to send and reconnect, `readUIMessageStream` to
 * build the message. The loopback upstream is gated where order matters, and counts the answers
 * it was hung up on.
 */
let upstream: TestUpstream
let gateway: WranglerDev
let proxy: CuttingProxy
let proxyUrl: string

beforeAll(async () => {
  upstream = new TestUpstream()
  const upstreamUrl = await upstream.start()
  gateway = await startWranglerDev({
    DEFAULT_MODEL: 'upstream',
    MODELS: testModels(upstreamUrl),
    ANONYMOUS_MODELS: 'upstream, demo',
    HEARTBEAT_MS: '500',
    UPSTREAM_HEADERS_TIMEOUT_MS: '4000',
  })
  proxy = new CuttingProxy(Number(new URL(gateway.url).port))
  proxyUrl = await proxy.start()
})

afterAll(async () => {
  proxy?.stop()
  await gateway?.stop()
  await upstream?.stop()
})

let chats = 0
const newChatId = () => `e2e-${process.pid}-${++chats}`
const user = (text: string): UIMessage => ({ id: `u${chats}`, role: 'user', parts: [{ type: 'text', text }] })
/** Node keeps no cookies: the test's chats are owned by a token it sends itself, as an app on another site does. */
const owner = { 'X-Chat-Owner': `e2e-owner-${crypto.randomUUID()}` }
const transport = (base = gateway.url) => new DefaultChatTransport({ api: `${base}/api/ui/chat`, headers: owner })
const textOf = (message: UIMessage | undefined) =>
  (message?.parts ?? []).map((part) => (part.type === 'text' ? part.text : '')).join('')

function send(chatId: string, text: string, base = gateway.url) {
  return transport(base).sendMessages({
    chatId,
    messages: [user(text)],
    trigger: 'submit-message',
    messageId: undefined,
    abortSignal: undefined,
  })
}

/** The SDK's view of a stream, read incrementally: the chunks, the message so far, and how it ended. */
function consume(stream: ReadableStream<UIMessageChunk>) {
  const state = { chunks: [] as UIMessageChunk[], message: undefined as UIMessage | undefined }
  const [forChunks, forMessages] = stream.tee()
  const chunksDone = (async () => {
    const reader = forChunks.getReader()
    for (let read = await reader.read(); !read.done; read = await reader.read()) state.chunks.push(read.value)
  })().catch(() => {})
  const ended = (async () => {
    try {
      for await (const message of readUIMessageStream({ stream: forMessages, terminateOnError: true })) {
        state.message = message
      }
      return { error: undefined }
    } catch (error) {
      return { error: error as Error }
    } finally {
      await chunksDone
    }
  })()
  return { state, ended }
}

const finished = (chunks: UIMessageChunk[]) => chunks.some((chunk) => chunk.type === 'finish')

describe('useChat’s transport against the Worker', () => {
  it('sendMessages + readUIMessageStream give the final message with the whole text', async () => {
    const { state, ended } = consume(await send(newChatId(), 'hello from the SDK'))
    expect((await ended).error).toBeUndefined()
    expect(textOf(state.message)).toBe('echo: hello from the SDK')
    expect(state.message!.metadata).toMatchObject({
      model: 'upstream',
      upstream: 'upstream',
      usage: { total_tokens: 8 },
    })
    expect(state.chunks.at(-1)).toEqual({
      type: 'finish',
      finishReason: 'stop',
      messageMetadata: { usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } },
    })
  })

  it('reconnectToStream after a cut connection resumes the answer, whole, each token once', async () => {
    const abandoned = upstream.abandonedAnswers
    const chatId = newChatId()
    const first = consume(await send(chatId, 'gated', proxyUrl))
    await expect.poll(() => textOf(first.state.message)).toBe('First')
    proxy.cutAll()
    const cut = await first.ended
    expect(cut.error).toBeDefined()
    expect(finished(first.state.chunks)).toBe(false)

    const resumed = consume((await transport(proxyUrl).reconnectToStream({ chatId }))!)
    await expect.poll(() => textOf(resumed.state.message)).toBe('First')
    upstream.releaseGate()
    expect((await resumed.ended).error).toBeUndefined()
    expect(textOf(resumed.state.message)).toBe('First and the rest.')
    expect(resumed.state.message!.id).toBe(first.state.message!.id)
    expect(resumed.state.chunks.filter((c) => c.type === 'text-delta').map((c) => c.delta)).toEqual([
      'First',
      ' and the rest.',
    ])
    expect(finished(resumed.state.chunks)).toBe(true)
    // Leaving did not cancel the answer; and once read whole, there is nothing left to resume.
    expect(upstream.abandonedAnswers).toBe(abandoned)
    expect(await transport().reconnectToStream({ chatId })).toBeNull()
  })

  it.each(['reset', 'malformed'])(
    'a %s upstream surfaces as the SDK’s error, never a finished message',
    async (scenario) => {
      const { state, ended } = consume(await send(newChatId(), scenario))
      const { error } = await ended
      expect(error).toBeInstanceOf(Error)
      expect(error!.message.length).toBeGreaterThan(0)
      expect(finished(state.chunks)).toBe(false)
      expect(state.chunks.some((c) => c.type === 'error')).toBe(true)
    },
  )

  it('a truncated upstream never yields a finished message', async () => {
    const { state, ended } = consume(await send(newChatId(), 'truncate'))
    const { error } = await ended
    expect(error?.message).toMatch(/./)
    expect(textOf(state.message)).toBe('Cut short')
    expect(finished(state.chunks)).toBe(false)
    expect(state.message!.parts.findLast((p) => p.type === 'text')).toMatchObject({ state: 'streaming' })
  })

  it('a refusal before the answer is the SDK’s APICallError with the status and our JSON body', async () => {
    const error = await send(newChatId(), 'status:429').catch((caught: unknown) => caught)
    expect(APICallError.isInstance(error)).toBe(true)
    expect((error as APICallError).statusCode).toBe(429)
    expect(JSON.parse((error as APICallError).responseBody!)).toMatchObject({
      error: { code: 'upstream_rate_limited' },
    })
  })

  it('DELETE …/stream stops the answer: the upstream connection closes, and readers get the abort chunk', async () => {
    const abandoned = upstream.abandonedAnswers
    const chatId = newChatId()
    const reading = consume(await send(chatId, 'stall'))
    await expect.poll(() => textOf(reading.state.message)).toBe('Thinking')
    const stop = await fetch(`${gateway.url}/api/ui/chat/${encodeURIComponent(chatId)}/stream`, {
      method: 'DELETE',
      headers: owner,
    })
    expect(stop.status).toBe(204)
    await upstream.until(() => upstream.abandonedAnswers > abandoned && upstream.openAnswers === 0)
    expect((await reading.ended).error).toBeUndefined()
    expect(reading.state.chunks.at(-1)).toEqual({ type: 'abort', reason: 'The answer was stopped.' })
    expect(finished(reading.state.chunks)).toBe(false)
  })
})
