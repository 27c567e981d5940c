import { env } from 'cloudflare:workers'
import app from '../../src/index'
import { eventsOf } from '../helpers/sse'
import { asEnv, type TestEnv } from '../helpers/env'

export const BASE = 'http://gateway.test'

/**
 * The real bindings (the AnswerStream namespace among them) with the test's own models and limits.
 * These tests are about streams, not access control (test/access/ covers that): their models are
 * open to anonymous callers, and the rate limiter is left out.
 */
export function streamEnv(overrides: TestEnv = {}): Env {
  const vars: TestEnv = {
    ...env,
    DEFAULT_MODEL: 'demo',
    MODELS: {
      demo: { adapter: 'demo', token_delay_ms: 0 },
      paced: { adapter: 'demo', token_delay_ms: 2 },
      silent: { adapter: 'demo', token_delay_ms: 0, silence_after_tokens: 3, silence_ms: 60_000 },
      unreachable: { adapter: 'openai', base_url: 'http://127.0.0.1:1/v1', upstream_model: 'm' },
    },
    HEARTBEAT_MS: '15000',
    RETRY_MS: '0',
    RATE_LIMIT: undefined,
    RATE_LIMIT_ANONYMOUS: undefined,
    ...overrides,
  }
  vars.ANONYMOUS_MODELS ??= Object.keys(vars.MODELS as object).join(', ')
  return asEnv(vars)
}

export const hello = { messages: [{ role: 'user' as const, content: 'Hello, resumable gateway' }] }

export function call(path: string, init: RequestInit = {}, testEnv = streamEnv()) {
  return app.request(`${BASE}${path}`, init, testEnv)
}

export function create(body: unknown = hello, headers: Record<string, string> = {}, testEnv = streamEnv()) {
  return call(
    '/api/streams',
    { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) },
    testEnv,
  )
}

/** Creates a stream and returns its id (the 201 flow). */
export async function created(body: unknown = hello, testEnv = streamEnv()): Promise<string> {
  const response = await create(body, {}, testEnv)
  if (response.status !== 201) throw new Error(`expected 201, got ${response.status}: ${await response.text()}`)
  return ((await response.json()) as { id: string }).id
}

/** Reads a stream; `credentials` are the headers of the principal that made it, if one did. */
export function read(
  id: string,
  lastEventId?: number,
  testEnv = streamEnv(),
  credentials: Record<string, string> = {},
) {
  const headers: Record<string, string> = { Accept: 'text/event-stream', ...credentials }
  if (lastEventId !== undefined) headers['Last-Event-ID'] = String(lastEventId)
  return call(`/api/streams/${id}`, { headers }, testEnv)
}

/** Every event of a stream from the start, once it has ended. */
export async function wholeStream(id: string, testEnv = streamEnv()) {
  return eventsOf(await (await read(id, undefined, testEnv)).text())
}

export function stub(id: string) {
  const namespace = env.ANSWER_STREAMS!
  return namespace.get(namespace.idFromName(id))
}

export async function until(predicate: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('until: timed out')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

export const textOf = (events: ReturnType<typeof eventsOf>) =>
  events
    .filter((e) => e.event === 'delta')
    .map((e) => (e.data as { text: string }).text)
    .join('')

/** Reads a response a chunk at a time, keeping the text, for tests that act mid-stream. */
export function readStream(response: Response) {
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  let done = false
  return {
    get text() {
      return text
    },
    get events() {
      return eventsOf(text)
    },
    async more(): Promise<boolean> {
      if (done) return false
      const chunk = await reader.read()
      if (chunk.done) return !(done = true)
      text += decoder.decode(chunk.value, { stream: true })
      return true
    },
    async rest(): Promise<string> {
      while (await this.more());
      return text
    },
    cancel: () => reader.cancel(),
  }
}
