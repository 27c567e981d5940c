import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { TestUpstream, testModels } from './upstream-server'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * Issue 29, findings 3 and 6, under `wrangler dev` with its simulated Rate Limiting binding and a
 * loopback upstream that records every request it gets. The limits are lowered (a key: 8 a
 * minute; anonymous callers: 10) in a config of the test's own, so a flood is reached quickly.
 * Before: three requests of 3,800 `item_reference`s each were resolved in full past the limit;
 * 99 references to a long item sent a 3.2 MB request upstream; a 254 KB body of 127,000 bad
 * items was a 10 MB refusal, and 400s were never rate limited.
 */
const KEY_LIMIT = 8
const ANONYMOUS_LIMIT = 10
const key = generateApiKey()

let upstream: TestUpstream
let gateway: WranglerDev

function testConfig(): string {
  const root = new URL('../../', import.meta.url).pathname
  const toml = readFileSync(join(root, 'wrangler.toml'), 'utf8')
    .replace(/^\[(assets|build)\]\n[\s\S]*?(?=^\[)/gm, '')
    .replace(/^main = ".*"$/m, `main = "${join(root, 'src/index.ts')}"`)
    .replace(/(name = "RATE_LIMIT"\n[\s\S]*?limit = )\d+/, `$1${KEY_LIMIT}`)
    .replace(/(name = "RATE_LIMIT_ANONYMOUS"[\s\S]*?limit = )\d+/, `$1${ANONYMOUS_LIMIT}`)
  const path = join(mkdtempSync(join(tmpdir(), 'gateway-limits-')), 'wrangler.toml')
  writeFileSync(path, toml)
  return path
}

beforeAll(async () => {
  upstream = new TestUpstream()
  const upstreamUrl = await upstream.start()
  gateway = await startWranglerDev(
    {
      DEFAULT_MODEL: 'demo',
      MODELS: testModels(upstreamUrl),
      API_KEYS: JSON.stringify({ limited: { sha256: await hashApiKey(key), models: ['upstream', 'demo'] } }),
    },
    {},
    { config: testConfig() },
  )
})

afterAll(async () => {
  await gateway?.stop()
  await upstream?.stop()
})

function post(path: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body,
  })
}

const bearer = { Authorization: `Bearer ${key}` }
const reference = (id: string) => ({ type: 'item_reference', id })

describe('item_reference under wrangler dev', () => {
  it('3,800 references are refused (400, then 429) and a long item repeated is a 413: nothing reaches the upstream', async () => {
    // One stored response whose only item is 32,000 characters long (the upstream echoes the prompt).
    const created = await post(
      '/v1/responses',
      JSON.stringify({ model: 'upstream', input: 'x'.repeat(32_000) }),
      bearer,
    )
    expect(created.status).toBe(200)
    const { output } = (await created.json()) as { output: Array<{ id: string; content: Array<{ text: string }> }> }
    expect(output[0]!.content[0]!.text.length).toBeGreaterThan(32_000)
    const sentBefore = upstream.requests.length

    const many = JSON.stringify({
      model: 'upstream',
      input: Array.from({ length: 3800 }, () => reference(output[0]!.id)),
    })
    const first = await post('/v1/responses', many, bearer)
    expect(first.status).toBe(400)
    expect(await first.json()).toMatchObject({ error: { param: 'input', type: 'invalid_request_error' } })

    const repeated = JSON.stringify({
      model: 'upstream',
      input: [...Array.from({ length: 99 }, () => reference(output[0]!.id)), { role: 'user', content: 'and?' }],
    })
    const tooLarge = await post('/v1/responses', repeated, bearer)
    expect(tooLarge.status).toBe(413)
    expect(await tooLarge.json()).toMatchObject({ error: { code: 'conversation_too_large' } })

    // Past the limit, refused before anything is read.
    const statuses: number[] = []
    for (let i = 0; i < 3 * KEY_LIMIT && statuses.at(-1) !== 429; i++) {
      const response = await post('/v1/responses', many, bearer)
      statuses.push(response.status)
      await response.body?.cancel()
    }
    expect(statuses.at(-1)).toBe(429)
    expect(new Set(statuses.slice(0, -1))).toEqual(new Set(statuses.length > 1 ? [400] : []))
    expect(upstream.requests.length).toBe(sentBefore)
  })
})

describe('anonymous refusals under wrangler dev', () => {
  const many = `[${new Array<string>(127_000).fill('0').join(',')}]`
  const bodies: Array<[string, string]> = [
    ['/api/chat', `{"messages":${many}}`],
    ['/api/ui/chat', `{"id":"c","messages":${many}}`],
    ['/v1/chat/completions', `{"model":"demo","messages":${many}}`],
    ['/v1/responses', `{"model":"demo","input":${many}}`],
    ['/v1/messages', `{"model":"demo","max_tokens":16,"messages":${many}}`],
  ]

  it('127,000 bad items: a 400 under 64 KB on every surface, and a flood of them 429 past the limit', async () => {
    for (const [path, body] of bodies) {
      const response = await post(path, body)
      const text = await response.text()
      expect(response.status, `${path}: ${text.slice(0, 200)}`).toBe(400)
      expect(text.length, path).toBeLessThan(64 * 1024)
    }
    const statuses: number[] = []
    for (let i = 0; i < 3 * ANONYMOUS_LIMIT && statuses.at(-1) !== 429; i++) {
      const response = await post('/api/chat', bodies[0]![1])
      statuses.push(response.status)
      const text = await response.text()
      expect(text.length).toBeLessThan(64 * 1024)
    }
    expect(statuses.at(-1)).toBe(429)
  })
})
