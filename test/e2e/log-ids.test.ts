import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { idTag } from '../../src/log'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * Issue 29, finding 5: the `answer ended` line held a stream id whole, and a stream id is the
 * capability to read and stop its answer. Answers run on every surface that stores them, each
 * id is used on every route that takes it (read, replay, stop, delete, and an unknown one
 * refused), and then the Worker's own log lines are scanned: no stream, response or chat id in
 * any of them, and each answer's tag in its `answer ended` line.
 *
 * Only the Worker's lines (one JSON object each) are the gateway's: wrangler's own request lines
 * (`[wrangler:info] GET /api/streams/…`) show every URL, as the platform's invocation log does in
 * production; docs/security.md says so.
 */
let gateway: WranglerDev
const key = generateApiKey()
const bearer = { Authorization: `Bearer ${key}` }
const chatOwner = { 'X-Chat-Owner': `log-ids-${crypto.randomUUID()}` }

beforeAll(async () => {
  gateway = await startWranglerDev({
    DEFAULT_MODEL: 'demo',
    MODELS: JSON.stringify({ demo: { adapter: 'demo', token_delay_ms: 1 } }),
    API_KEYS: JSON.stringify({ owner: { sha256: await hashApiKey(key), models: ['*'] } }),
  })
})

afterAll(async () => {
  await gateway?.stop()
})

async function call(method: string, path: string, headers: Record<string, string> = {}, body?: object) {
  const response = await fetch(`${gateway.url}${path}`, {
    method,
    headers: { ...headers, ...(body && { 'Content-Type': 'application/json' }) },
    body: body && JSON.stringify(body),
  })
  await response.arrayBuffer()
  return response
}

async function json<T>(response: Promise<Response>): Promise<T> {
  return (await (await response).json()) as T
}

/** The Worker's log lines, parsed: wrangler's own lines are not JSON objects. */
function workerLines(): Array<Record<string, unknown> & { raw: string }> {
  return gateway
    .logs()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((raw) => {
      try {
        return [{ ...(JSON.parse(raw) as Record<string, unknown>), raw }]
      } catch {
        return []
      }
    })
}

async function answersEnded(count: number) {
  const deadline = Date.now() + 20_000
  for (;;) {
    const ended = workerLines().filter((line) => line.msg === 'answer ended')
    if (ended.length >= count || Date.now() > deadline) return ended
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

describe('ids in the log', () => {
  it('no stream, response or chat id is ever in a log line; their tags are', async () => {
    const ask = { model: 'demo', messages: [{ role: 'user', content: 'hello' }] }

    // /api/streams, with credentials (an owned answer) and without.
    const streamIds: string[] = []
    for (const headers of [bearer, {}]) {
      const { id } = await json<{ id: string }>(
        fetch(`${gateway.url}/api/streams`, {
          method: 'POST',
          headers: { ...headers, 'Content-Type': 'application/json' },
          body: JSON.stringify(ask),
        }),
      )
      streamIds.push(id)
      await call('GET', `/api/streams/${id}`, headers)
      await call('GET', `/api/streams/${id}?last_event_id=2`, headers)
      await call('DELETE', `/api/streams/${id}`, headers)
    }
    // Refused, so logged with its path: an id nobody made, and another caller's.
    await call('GET', `/api/streams/${streamIds[0]}`)
    await call('DELETE', `/api/streams/${streamIds[0]}`)

    // /v1/responses, stored (whole), then background.
    const responses = { model: 'demo', input: 'hello' }
    const stored = await json<{ id: string }>(
      fetch(`${gateway.url}/v1/responses`, {
        method: 'POST',
        headers: { ...bearer, 'Content-Type': 'application/json' },
        body: JSON.stringify({ ...responses, store: true }),
      }),
    )
    const background = await json<{ id: string }>(
      fetch(`${gateway.url}/v1/responses`, {
        method: 'POST',
        headers: { ...bearer, 'Content-Type': 'application/json' },
        body: JSON.stringify({ ...responses, background: true }),
      }),
    )
    for (const { id } of [stored, background]) {
      await call('GET', `/v1/responses/${id}?stream=true`, bearer)
      await call('GET', `/v1/responses/${id}`, bearer)
      await call('GET', `/v1/responses/${id}`)
    }
    await call('POST', `/v1/responses/${background.id}/cancel`, bearer)
    await call('DELETE', `/v1/responses/${stored.id}`, bearer)
    await call('GET', `/v1/responses/${stored.id}`, bearer)

    // /api/ui/chat, resumable: the chat id is the caller's, its stream id the gateway's own.
    const chatId = `chat-${crypto.randomUUID()}`
    const message = { id: 'u1', role: 'user', parts: [{ type: 'text', text: 'hello' }] }
    await call('POST', '/api/ui/chat', chatOwner, { id: chatId, messages: [message], trigger: 'submit-message' })
    await call('GET', `/api/ui/chat/${chatId}/stream`, chatOwner)
    await call('DELETE', `/api/ui/chat/${chatId}/stream`, chatOwner)
    await call('GET', `/api/ui/chat/${chatId}/stream`)
    await call('DELETE', `/api/ui/chat/${chatId}/stream`)

    // Two streams, two responses, one chat.
    const ended = await answersEnded(5)
    // The last requests (the chat's stream, tried without its owner) may be logged after the answers' ends.
    const lastRefusal = `/api/ui/chat/${idTag(chatId)}/stream`
    const deadline = Date.now() + 20_000
    while (!workerLines().some((line) => line.path === lastRefusal) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    const secrets = [...streamIds, stored.id, background.id, chatId]
    const responseStreams = [stored.id, background.id].map((id) => id.slice('resp_'.length))
    const lines = workerLines()
    expect(lines.length).toBeGreaterThan(ended.length)
    for (const line of lines) for (const secret of secrets) expect(line.raw).not.toContain(secret)
    for (const secret of responseStreams) expect(lines.map((line) => line.raw).join('\n')).not.toContain(secret)

    const tags = ended.map((line) => line.streamHash)
    for (const id of [...streamIds, ...responseStreams]) expect(tags).toContain(idTag(id))
    const uiChat = ended.find((line) => line.path === '/api/ui/chat')
    expect(uiChat?.streamHash).toMatch(/^#[0-9a-f]{8}$/)
    // The refusals were logged, each with its id's tag in the path.
    const refused = lines.filter((line) => line.msg === 'request refused').map((line) => line.path)
    expect(refused).toContain(`/api/streams/${idTag(streamIds[0]!)}`)
    expect(refused).toContain(`/api/ui/chat/${idTag(chatId)}/stream`)
  })
})
