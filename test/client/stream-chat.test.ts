import { describe, expect, it } from 'vitest'
import { ChatStreamError, streamChat, type ChatStreamEvent } from 'llm-stream-gateway/client' // the import path the docs give
import app from '../../src/index'
import { asEnv } from '../helpers/env'

const env = asEnv({
  MODELS: {
    demo: { adapter: 'demo', token_delay_ms: 0 },
    flaky: { adapter: 'demo', token_delay_ms: 0, fail_after_tokens: 2 },
  },
})
const hello = { messages: [{ role: 'user' as const, content: 'Hello' }] }
/** The client talking to the real app in this isolate. */
const viaApp: typeof fetch = (input, init) => Promise.resolve(app.request(String(input), init, env))

/** A fetch that answers with the given event-stream body, recording whether the client cancelled it. */
function streamingFetch(body: string, { close = true } = {}) {
  const state = { cancelled: false }
  const fake: typeof fetch = async () =>
    new Response(
      new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(body))
          if (close) controller.close()
        },
        cancel: () => void (state.cancelled = true),
      }),
      { headers: { 'Content-Type': 'text/event-stream; charset=utf-8' } },
    )
  return { fake, state }
}

async function collect(events: AsyncIterable<ChatStreamEvent>) {
  const seen: ChatStreamEvent[] = []
  for await (const event of events) seen.push(event)
  return seen
}

const start = 'id: 1\nevent: start\ndata: {"id":"c","model":"m","created":1}\n\n'
const delta = 'id: 2\nevent: delta\ndata: {"text":"Hi"}\n\n'

describe('streamChat', () => {
  it('yields typed start, delta, usage and done events from the real endpoint', async () => {
    const events = await collect(streamChat(hello, { fetch: viaApp, baseUrl: 'http://gateway.test' }))
    expect(events[0]).toMatchObject({ event: 'start', id: 1, data: { model: 'demo' } })
    expect(events.filter((e) => e.event === 'delta').length).toBeGreaterThan(10)
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { finish_reason: 'stop' } })
  })

  it('throws an upstream ChatStreamError for an error event, after the text before it', async () => {
    const seen: ChatStreamEvent[] = []
    const error = await (async () => {
      for await (const event of streamChat({ ...hello, model: 'flaky' }, { fetch: viaApp })) seen.push(event)
    })().catch((e: unknown) => e)
    expect(seen.filter((e) => e.event === 'delta')).toHaveLength(2)
    expect(error).toBeInstanceOf(ChatStreamError)
    expect(error).toMatchObject({ kind: 'upstream', code: 'upstream_error', retryable: true })
  })

  it('throws an http ChatStreamError with the server’s code for a refusal', async () => {
    const error = await collect(streamChat({ ...hello, model: 'nope' }, { fetch: viaApp })).catch((e: unknown) => e)
    expect(error).toMatchObject({ kind: 'http', status: 400, code: 'unknown_model' })
  })

  it('throws content_type for a response that is not an event stream', async () => {
    const html: typeof fetch = async () =>
      new Response('<html>proxy error</html>', { headers: { 'Content-Type': 'text/html' } })
    expect(await collect(streamChat(hello, { fetch: html })).catch((e: unknown) => e)).toMatchObject({
      kind: 'content_type',
    })
  })

  it('throws truncated for a stream that ends without a terminal event', async () => {
    const { fake } = streamingFetch(start + delta)
    expect(await collect(streamChat(hello, { fetch: fake })).catch((e: unknown) => e)).toMatchObject({
      kind: 'truncated',
    })
  })

  it('returns at done without cancelling the body, which ends on its own: no cancelled request in the log', async () => {
    const done = 'id: 3\nevent: done\ndata: {"finish_reason":"stop"}\n\n'
    const state = { cancelled: false, end: () => {} }
    const fake: typeof fetch = async () =>
      new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(start + delta + done))
            state.end = () => controller.close() // the gateway closes just after `done`, in a later chunk
          },
          cancel: () => void (state.cancelled = true),
        }),
        { headers: { 'Content-Type': 'text/event-stream' } },
      )
    const events = await collect(streamChat(hello, { fetch: fake }))
    expect(events.map((e) => e.event)).toEqual(['start', 'delta', 'done'])
    state.end()
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(state.cancelled).toBe(false)
  })

  it('stops reading and cancels the connection when the signal aborts', async () => {
    const { fake, state } = streamingFetch(start + delta, { close: false })
    const controller = new AbortController()
    const seen: string[] = []
    const error = await (async () => {
      for await (const event of streamChat(hello, { fetch: fake, signal: controller.signal })) {
        seen.push(event.event)
        if (event.event === 'delta') controller.abort()
      }
    })().catch((e: unknown) => e)
    expect(seen).toEqual(['start', 'delta'])
    expect(error).not.toBeInstanceOf(ChatStreamError)
    expect(state.cancelled).toBe(true)
  })
})
