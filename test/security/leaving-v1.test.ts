import { afterEach, describe, expect, it, vi } from 'vitest'
import { openAI } from '../helpers/upstream'
import { call, streamEnv, until } from '../streams/helpers'

/**
 * Issue 19, finding 6: a `/v1` client that asked for a whole answer (`stream: false`) and left
 * did not cancel the upstream: it ran to the end and held the caller's slot. Leaving now cancels
 * it, as on every other path.
 */
const env = () =>
  streamEnv({
    MODELS: { gpt: { adapter: 'openai', base_url: 'https://upstream.test/v1', upstream_model: 'm' } },
    DEFAULT_MODEL: 'gpt',
    ANONYMOUS_CONCURRENT_STREAMS: '1',
  })

/** An upstream that sends a token, then holds the rest until cancelled; it records what happened. */
function stallingUpstream() {
  const state = { cancelled: 0, opened: 0 }
  vi.spyOn(globalThis, 'fetch').mockImplementation(async () => {
    state.opened++
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => controller.enqueue(new TextEncoder().encode(openAI.text('Hel'))),
      cancel: () => void state.cancelled++,
    })
    return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } })
  })
  return state
}

afterEach(() => vi.restoreAllMocks())

const surfaces = {
  '/v1/chat/completions': { model: 'gpt', messages: [{ role: 'user', content: 'hi' }], stream: false },
  '/v1/messages': { model: 'gpt', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }], stream: false },
}

describe('whole answers (stream: false)', () => {
  for (const [path, request] of Object.entries(surfaces)) {
    it(`${path}: a client that leaves cancels the upstream and frees its slot`, async () => {
      const upstream = stallingUpstream()
      const testEnv = env()
      const ip = { 'CF-Connecting-IP': `198.51.100.${path.length}` }
      const ask = (signal?: AbortSignal) =>
        call(
          path,
          {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', ...ip },
            body: JSON.stringify(request),
            signal,
          },
          testEnv,
        )
      const client = new AbortController()
      const pending = Promise.resolve(ask(client.signal)).catch((error: unknown) => error)
      await until(() => upstream.opened === 1)
      client.abort()
      await until(() => upstream.cancelled === 1, 3000)
      const left = await pending
      if (left instanceof Response) expect(left.status).toBe(499)
      // The slot is free again: the next request is admitted (and reaches the upstream).
      void ask()
      await until(() => upstream.opened === 2, 3000)
    })
  }
})
