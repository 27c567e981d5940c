import { describe, expect, it } from 'vitest'
import type { Admission } from '../../src/access/admission'
import { loadConfig } from '../../src/config/load'
import { cacheKey, canonicalJson } from '../../src/routes/shared/cache-key'
import { cacheEntry } from '../../src/streams/cache-entry'
import type { StreamMeta } from '../../src/streams/event-log'
import { asEnv } from '../helpers/env'

/** The response cache's key (docs/cache.md): equal requests meet, anything that changes the answer or its reader parts them. */
const MODELS = {
  mini: { adapter: 'openai', base_url: 'https://api.example.com/v1', upstream_model: 'mini', cache_ttl_s: 60 },
}
const config = loadConfig(asEnv({ DEFAULT_MODEL: 'mini', MODELS }))

const admission = (request: object, fallbacks: string[] = []) =>
  ({ request: { model: 'mini', messages: [{ role: 'user', content: 'Hi' }], ...request }, fallbacks }) as Admission

const key = (request: object = {}, { route = '/api/chat', scope = 'key:alice', fallbacks = [] as string[] } = {}) =>
  cacheKey(config, admission(request, fallbacks), route, scope)

describe('the cache key', () => {
  it('is a SHA-256 in hex, the same for the same request whatever the order of its keys', async () => {
    const a = await key({ temperature: 0.5, max_tokens: 10 })
    expect(a).toMatch(/^[0-9a-f]{64}$/)
    expect(await key({ max_tokens: 10, temperature: 0.5 })).toBe(a)
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: 3 } })).toBe(
      '{"a":{"c":3,"d":[2,{"e":0,"f":1}]},"b":1}',
    )
  })

  it('changes with anything that changes the answer, and with who may read it', async () => {
    const base = await key()
    const others = await Promise.all([
      key({ messages: [{ role: 'user', content: 'Hi!' }] }),
      key({ temperature: 0.2 }),
      key({ max_tokens: 5 }),
      key({ tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] }),
      key({}, { scope: 'key:bob' }),
      key({}, { scope: 'shared' }),
      key({}, { route: '/v1/chat/completions' }),
      key({}, { fallbacks: ['other'] }),
    ])
    for (const other of others) expect(other).not.toBe(base)
    expect(new Set(others).size).toBe(others.length)
  })

  it('changes when the operator changes the model', async () => {
    const changed = loadConfig(
      asEnv({ DEFAULT_MODEL: 'mini', MODELS: { mini: { ...MODELS.mini, upstream_model: 'maxi' } } }),
    )
    expect(await cacheKey(changed, admission({}), '/api/chat', 'key:alice')).not.toBe(await key())
  })
})

describe('a cache entry', () => {
  const meta = (more: Partial<StreamMeta>) =>
    ({ state: 'ended', endedAt: 1000, retentionMs: 60_000, endedWith: 'done', ...more }) as StreamMeta

  it('is joined while it runs, served while complete and fresh, and never once failed or expired', () => {
    expect(cacheEntry(meta({ state: 'running', endedWith: undefined }), 2000)).toBe('running')
    expect(cacheEntry(meta({}), 2000)).toBe('fresh')
    expect(cacheEntry(meta({ endedWith: 'error' }), 2000)).toBe('stale')
    expect(cacheEntry(meta({}), 61_000)).toBe('stale')
  })
})
