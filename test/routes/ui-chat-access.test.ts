import { describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import app from '../../src/index'
import { call, streamEnv } from '../streams/helpers'

const alice = generateApiKey()
const bob = generateApiKey()

/** Two principals with keys, on models that stay open (a silent one keeps its answer running). */
async function keyedEnv() {
  return streamEnv({
    ANONYMOUS_MODELS: 'demo',
    API_KEYS: {
      alice: { sha256: await hashApiKey(alice), models: ['*'] },
      bob: { sha256: await hashApiKey(bob), models: ['*'] },
    },
  })
}

const asKey = (key?: string): Record<string, string> => (key ? { Authorization: `Bearer ${key}` } : {})

function send(chatId: string, key: string | undefined, env: Awaited<ReturnType<typeof keyedEnv>>) {
  return app.request(
    'http://gateway.test/api/ui/chat',
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...asKey(key) },
      body: JSON.stringify({
        id: chatId,
        model: 'silent',
        messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: 'hello' }] }],
        trigger: 'submit-message',
      }),
    },
    env,
  )
}

describe('/api/ui/chat with access control', () => {
  it('a chat id names only its own principal’s chat: another principal, or nobody, finds nothing there', async () => {
    const env = await keyedEnv()
    const chatId = `chat-${crypto.randomUUID()}`
    const started = await send(chatId, alice, env)
    expect(started.status).toBe(200)
    await started.body!.cancel()

    const resume = (key?: string) => call(`/api/ui/chat/${chatId}/stream`, { headers: asKey(key) }, env)
    expect((await resume(bob)).status).toBe(204)
    expect((await resume()).status).toBe(204)
    const own = await resume(alice)
    expect(own.status).toBe(200)
    await own.body!.cancel()

    // Nor can another principal stop it.
    const stop = (key?: string) => call(`/api/ui/chat/${chatId}/stream`, { method: 'DELETE', headers: asKey(key) }, env)
    expect((await stop(bob)).status).toBe(404)
    expect((await stop(alice)).status).toBe(204)
  })

  it('starting a chat takes the same access as /api/chat: 401 without credentials for a paid model', async () => {
    const env = await keyedEnv()
    const response = await send(`chat-${crypto.randomUUID()}`, undefined, env)
    expect(response.status).toBe(401)
    const bad = await send(`chat-${crypto.randomUUID()}`, 'lsg_not-a-real-key', env)
    expect(bad.status).toBe(401)
  })
})
