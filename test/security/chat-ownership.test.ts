import { env as bindings } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import app from '../../src/index'
import { call, streamEnv } from '../streams/helpers'
import { freshIp } from '../helpers/fresh-ip'

/**
 * Issue 19, finding 3: every caller without credentials shared one `useChat` namespace, so from
 * another address `GET /api/ui/chat/chat-1/stream` read a stranger's live answer (and replayed
 * it whole), `DELETE` stopped it, and a `POST` with the same id replaced it. Now an anonymous
 * chat belongs to the owner token the gateway issued its starter (an HttpOnly cookie) or the one
 * the app sends (`X-Chat-Owner`), and every route that touches a stream is rate limited.
 */
const env = (overrides = {}) =>
  streamEnv({
    MODELS: { silent: { adapter: 'demo', token_delay_ms: 0, silence_after_tokens: 2, silence_ms: 60_000 } },
    DEFAULT_MODEL: 'silent',
    ...overrides,
  })

const chatBody = (chatId: string, text = 'hello') =>
  JSON.stringify({ id: chatId, messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text }] }] })

async function start(chatId: string, headers: Record<string, string> = {}) {
  const response = await call(
    '/api/ui/chat',
    { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: chatBody(chatId) },
    env(),
  )
  expect(response.status).toBe(200)
  const reader = response.body!.getReader()
  const { value } = await reader.read()
  await reader.cancel()
  const first = new TextDecoder().decode(value)
  return { cookie: response.headers.get('Set-Cookie'), messageId: /"messageId":"([^"]+)"/.exec(first)?.[1] }
}

const resume = (chatId: string, headers: Record<string, string> = {}) =>
  call(`/api/ui/chat/${chatId}/stream`, { headers }, env())
const stop = (chatId: string, headers: Record<string, string> = {}) =>
  call(`/api/ui/chat/${chatId}/stream`, { method: 'DELETE', headers }, env())

/** The first chunk a resume sends: its `start`, with the assistant message's id. */
async function messageIdOf(response: Response): Promise<string | undefined> {
  expect(response.status).toBe(200)
  const reader = response.body!.getReader()
  const { value } = await reader.read()
  await reader.cancel()
  return /"messageId":"([^"]+)"/.exec(new TextDecoder().decode(value))?.[1]
}

const asCookie = (setCookie: string | null) => ({ Cookie: setCookie!.split(';')[0]! })

describe('anonymous useChat chats', () => {
  it('the first POST issues an owner token as an HttpOnly, SameSite=Strict cookie for this surface only', async () => {
    const { cookie } = await start(`chat-${crypto.randomUUID()}`)
    expect(cookie).toMatch(/^gateway_chat_owner=[A-Za-z0-9_-]{43}; /)
    expect(cookie).toContain('HttpOnly')
    expect(cookie).toContain('SameSite=Strict')
    expect(cookie).toContain('Path=/api/ui/chat')
    expect(cookie).not.toContain('Secure') // http://gateway.test: a browser would drop a Secure cookie
    const https = await app.request(
      'https://gateway.test/api/ui/chat',
      { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: chatBody('chat-https') },
      env(),
    )
    expect(https.headers.get('Set-Cookie')).toContain('Secure')
    await https.body!.cancel()
  })

  it('a stranger can neither read, nor replay, nor stop, nor replace a chat another started, whatever its id', async () => {
    const chatId = 'chat-1' // the kind of id an app might well choose
    const owner = await start(chatId)
    const ownerHeaders = asCookie(owner.cookie)

    // From anywhere else, without the owner's cookie (or with a made-up one):
    const strangers: Array<Record<string, string>> = [
      {},
      { Cookie: 'gateway_chat_owner=' + 'A'.repeat(43) },
      { 'CF-Connecting-IP': '192.0.2.1' },
    ]
    for (const stranger of strangers) {
      expect((await resume(chatId, stranger)).status).toBe(204)
      expect((await resume(chatId, { ...stranger, 'Last-Event-ID': '0' })).status).toBe(204)
      expect((await stop(chatId, stranger)).status).toBe(404)
    }
    // A stranger's POST with the same id starts the stranger's own chat, and leaves the owner's alone.
    const theirs = await start(chatId)
    expect(theirs.messageId).not.toBe(owner.messageId)

    expect(await messageIdOf(await resume(chatId, ownerHeaders))).toBe(owner.messageId)
    expect((await stop(chatId, ownerHeaders)).status).toBe(204)
  })

  it('an app may keep its own owner token and send it as X-Chat-Owner (a page on another site)', async () => {
    const chatId = `chat-${crypto.randomUUID()}`
    const token = { 'X-Chat-Owner': crypto.randomUUID().replaceAll('-', '') }
    const started = await start(chatId, token)
    expect(started.cookie).toBeNull()
    expect(await messageIdOf(await resume(chatId, token))).toBe(started.messageId)
    expect((await resume(chatId)).status).toBe(204)
    expect((await resume(chatId, { 'X-Chat-Owner': crypto.randomUUID().replaceAll('-', '') })).status).toBe(204)
    const guessable = await resume(chatId, { 'X-Chat-Owner': 'me' })
    expect(guessable.status).toBe(400)
    expect(await guessable.json()).toMatchObject({
      error: { code: 'invalid_request', issues: [{ path: 'X-Chat-Owner' }] },
    })
  })
})

describe('rate limits on every route that touches a stream', () => {
  const limited = env({ RATE_LIMIT_ANONYMOUS: bindings.RATE_LIMIT_ANONYMOUS })
  const routes: Array<[string, string]> = [
    ['GET', `/api/streams/${'a'.repeat(32)}`],
    ['DELETE', `/api/streams/${'a'.repeat(32)}`],
    ['GET', '/api/ui/chat/chat-1/stream'],
    ['DELETE', '/api/ui/chat/chat-1/stream'],
  ]
  for (const [method, path] of routes) {
    it(`${method} ${path}: anonymous callers are limited per IP (429 rate_limited), others' IPs are not`, async () => {
      const ip = freshIp()
      let refused: Response | undefined
      for (let i = 0; i < 200 && !refused; i++) {
        const response = await call(path, { method, headers: { 'CF-Connecting-IP': ip } }, limited)
        if (response.status === 429) refused = response
        else await response.body?.cancel()
      }
      expect(refused, 'never refused').toBeDefined()
      expect(await refused!.json()).toMatchObject({ error: { code: 'rate_limited' } })
      expect(refused!.headers.get('Retry-After')).toBe('60')
      const other = await call(path, { method, headers: { 'CF-Connecting-IP': freshIp() } }, limited)
      expect(other.status).not.toBe(429)
    })
  }
})
