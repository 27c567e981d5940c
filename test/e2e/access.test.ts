import { once } from 'node:events'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { JWKS_COOLDOWN_MS } from '../../src/access/jwks-cache'
import { claims, rsaSigningKey, signJwt, type SigningKey } from '../helpers/jwt'
import { readStream } from './sse-client'
import { TestUpstream, testModels } from './upstream-server'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * Access control end to end: `wrangler dev` with its simulated Rate Limiting binding and the
 * principals' Durable Object, a JWKS server on 127.0.0.1 publishing keys made here, and the
 * official `openai` SDK. The config is the project's wrangler.toml with a lower anonymous rate
 * limit, in a directory of its own (so the objects' state starts empty).
 */
const ANONYMOUS_LIMIT = 3
const ISSUER = 'https://id.example.test'
const AUDIENCE = 'gateway-e2e'

let upstream: TestUpstream
let gateway: WranglerDev
let jwks: { server: Server; url: string; keys: SigningKey[]; fetches: number }
const apiKey = generateApiKey()
const poorKey = generateApiKey()

function testConfig(): string {
  const root = new URL('../../', import.meta.url).pathname
  const toml = readFileSync(join(root, 'wrangler.toml'), 'utf8')
    .replace(/^\[(assets|build)\]\n[\s\S]*?(?=^\[)/gm, '') // the page is not needed here
    .replace(/^main = ".*"$/m, `main = "${join(root, 'src/index.ts')}"`)
    .replace(/(name = "RATE_LIMIT_ANONYMOUS"[\s\S]*?limit = )\d+/, `$1${ANONYMOUS_LIMIT}`)
  const path = join(mkdtempSync(join(tmpdir(), 'gateway-access-')), 'wrangler.toml')
  writeFileSync(path, toml)
  return path
}

async function startJwksServer() {
  const state = { keys: [await rsaSigningKey('first')], fetches: 0 }
  const server = createServer((req, res) => {
    state.fetches++
    res.writeHead(200, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify({ keys: state.keys.map((k) => k.publicJwk) }))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`
  return Object.assign(state, { server, url })
}

beforeAll(async () => {
  upstream = new TestUpstream()
  const upstreamUrl = await upstream.start()
  jwks = await startJwksServer()
  gateway = await startWranglerDev(
    {
      DEFAULT_MODEL: 'demo',
      MODELS: testModels(upstreamUrl),
      // No ANONYMOUS_MODELS: the default (the demo models) is under test.
      API_KEYS: JSON.stringify({
        'sdk-client': { sha256: await hashApiKey(apiKey), models: ['upstream', 'demo'] },
        'poor-client': { sha256: await hashApiKey(poorKey), models: ['upstream'], daily_tokens: 5 },
      }),
      JWT: JSON.stringify({ jwks_url: jwks.url, issuer: ISSUER, audience: AUDIENCE, models: ['upstream'] }),
    },
    {},
    { config: testConfig() },
  )
})

afterAll(async () => {
  await gateway?.stop()
  await upstream?.stop()
  jwks?.server.close()
})

function chat(content: string, headers: Record<string, string> = {}, model = 'upstream') {
  return fetch(`${gateway.url}/api/chat`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ model, messages: [{ role: 'user', content }] }),
  })
}

async function answerText(response: Response): Promise<string> {
  expect(response.status).toBe(200)
  const events = await readStream(response).rest()
  expect(events.at(-1)?.event).toBe('done')
  return events
    .filter((e) => e.event === 'delta')
    .map((e) => JSON.parse(e.data).text)
    .join('')
}

describe('the openai SDK with an API key', () => {
  const sdk = (key: string) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 })

  it('streams with a valid key', async () => {
    const stream = await sdk(apiKey).chat.completions.create({
      model: 'upstream',
      messages: [{ role: 'user', content: 'keyed hello' }],
      stream: true,
    })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
    expect(text).toBe('echo: keyed hello')
  })

  it('raises AuthenticationError (invalid_api_key) for a bad key, before the upstream is called', async () => {
    const before = upstream.requests.length
    const error = await sdk(generateApiKey())
      .chat.completions.create({ model: 'upstream', messages: [{ role: 'user', content: 'x' }], stream: true })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError)
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key' })
    expect(upstream.requests.length).toBe(before)
  })

  it('raises RateLimitError (insufficient_quota) once the key’s daily budget is spent', async () => {
    const error = await sdk(poorKey)
      .chat.completions.create({ model: 'upstream', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
    expect(error).toMatchObject({ status: 429, code: 'insufficient_quota' })
  })
})

describe('JWTs verified against a JWKS on 127.0.0.1', () => {
  it('streams for a valid token, refuses a forged one, and fetches the JWKS again only for a new kid', async () => {
    const token = await signJwt(claims({ iss: ISSUER, aud: AUDIENCE, sub: 'erin' }), jwks.keys[0]!)
    const firstFetch = Date.now()
    expect(await answerText(await chat('signed in', { Authorization: `Bearer ${token}` }))).toBe('echo: signed in')
    expect(await answerText(await chat('again', { Authorization: `Bearer ${token}` }))).toBe('echo: again')
    expect(jwks.fetches).toBe(1)

    const forged = await signJwt(claims({ iss: ISSUER, aud: AUDIENCE }), await rsaSigningKey('first'))
    const refused = await chat('forged', { Authorization: `Bearer ${forged}` })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('WWW-Authenticate')).toBe('Bearer')
    expect(await refused.text()).not.toContain(forged)

    // The provider rotates its keys: the first token with the new kid makes the gateway look again
    // (once the cooldown since its last look has passed, as it will have in practice).
    jwks.keys = [jwks.keys[0]!, await rsaSigningKey('second')]
    await new Promise((resolve) => setTimeout(resolve, firstFetch + JWKS_COOLDOWN_MS + 100 - Date.now()))
    const rotated = await signJwt(claims({ iss: ISSUER, aud: AUDIENCE, sub: 'erin' }), jwks.keys[1]!)
    expect(await answerText(await chat('rotated', { Authorization: `Bearer ${rotated}` }))).toBe('echo: rotated')
    expect(jwks.fetches).toBe(2)
  })

  it('names the principal in the answer log line, and never logs a credential', async () => {
    const token = await signJwt(claims({ iss: ISSUER, aud: AUDIENCE, sub: 'frank' }), jwks.keys[0]!)
    await answerText(await chat('log me', { Authorization: `Bearer ${token}` }))
    await answerText(await chat('log me too', { Authorization: `Bearer ${apiKey}` }))
    // The lines come through wrangler's output a moment after the answers: wait for them.
    const patterns = [
      /"msg":"answer ended"[^\n]*"principal":"frank"/,
      /"msg":"answer ended"[^\n]*"principal":"sdk-client"/,
    ]
    const deadline = Date.now() + 15_000
    while (!patterns.every((p) => p.test(gateway.logs())) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const logs = gateway.logs()
    for (const pattern of patterns) expect(logs).toMatch(pattern)
    expect(logs).not.toContain(token)
    expect(logs).not.toContain(apiKey)
    expect(logs).not.toContain(poorKey)
  })
})

describe('anonymous callers (default ANONYMOUS_MODELS: the demo models)', () => {
  it('see and may use only the demo model, then are rate limited with 429 and Retry-After', async () => {
    const models = await (await fetch(`${gateway.url}/api/models`)).json()
    expect(models).toMatchObject({ default: 'demo', models: ['demo'], locked: ['upstream'] })
    expect((await chat('no key')).status).toBe(401) // the upstream model is not anonymous

    let answered = 0
    let refused: Response | undefined
    for (let i = 0; i < ANONYMOUS_LIMIT * 3 && !refused; i++) {
      const response = await chat('hi', {}, 'demo')
      if (response.status === 200) {
        answered++
        await response.text()
      } else refused = response
    }
    expect(answered).toBeGreaterThan(0)
    expect(refused?.status).toBe(429)
    expect(refused!.headers.get('Retry-After')).toBe('60')
    expect(await refused!.json()).toMatchObject({ error: { code: 'rate_limited', retryable: true } })
  })
})
