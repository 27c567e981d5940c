import { afterEach, describe, expect, it, vi } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { eventsOf } from '../helpers/sse'
import { call, read, streamEnv, until } from '../streams/helpers'

/**
 * Issue 19, finding 5: a key allowed only `cheap`, whose config lists `expensive` as its
 * fallback, got its answer from `expensive` when `cheap` was down. A fallback the principal may
 * not use is now skipped, and the skip is logged.
 */
const key = generateApiKey()
const unreachable = { adapter: 'openai', base_url: 'http://127.0.0.1:1/v1', upstream_model: 'm' }

async function env() {
  return streamEnv({
    MODELS: {
      cheap: { ...unreachable, fallbacks: ['expensive', 'spare'] },
      expensive: { adapter: 'demo', token_delay_ms: 0 },
      spare: { adapter: 'demo', token_delay_ms: 0 },
    },
    DEFAULT_MODEL: 'cheap',
    ANONYMOUS_MODELS: '',
    API_KEYS: { 'cheap-only': { sha256: await hashApiKey(key), models: ['cheap', 'spare'] } },
  })
}

const post = async (path: string) =>
  call(
    path,
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'cheap', messages: [{ role: 'user', content: 'hi' }] }),
    },
    await env(),
  )

afterEach(() => vi.restoreAllMocks())

describe('fallbacks outside the principal’s models', () => {
  it('/api/chat: skips `expensive`, answers from the allowed `spare`, and logs the skip', async () => {
    const lines: string[] = []
    for (const level of ['log', 'warn'] as const) {
      vi.spyOn(console, level).mockImplementation((line: unknown) => void lines.push(String(line)))
    }
    const response = await post('/api/chat')
    expect(response.status).toBe(200)
    const events = eventsOf(await response.text())
    expect(events[0]).toMatchObject({ event: 'start', data: { model: 'cheap', upstream: 'spare' } })
    const skipped = lines.map((line) => JSON.parse(line)).find((line) => line.msg === 'fallback not allowed, skipped')
    expect(skipped).toMatchObject({ model: 'cheap', fallback: 'expensive', principal: 'cheap-only' })
  })

  it('/api/streams: the answer’s object is given only the allowed fallbacks', async () => {
    const response = await post('/api/streams')
    expect(response.status).toBe(201)
    const { id } = (await response.json()) as { id: string }
    let events: ReturnType<typeof eventsOf> = []
    const testEnv = await env()
    await until(
      async () =>
        (events = eventsOf(await (await read(id, undefined, testEnv, { Authorization: `Bearer ${key}` })).text()))
          .length > 0,
    )
    expect(events[0]).toMatchObject({ event: 'start', data: { model: 'cheap', upstream: 'spare' } })
  })
})
