import { describe, expect, it } from 'vitest'
import { call, create, created, hello, streamEnv, until } from './helpers'

describe('access to /api/streams', () => {
  it('creating a stream takes the same access as /api/chat: 401 for a model anonymous callers may not use', async () => {
    const env = streamEnv({ ANONYMOUS_MODELS: 'demo' })
    const response = await create({ ...hello, model: 'paced' }, {}, env)
    expect(response.status).toBe(401)
    expect(response.headers.get('WWW-Authenticate')).toMatch(/^Bearer/)
  })

  it('holds a concurrent-stream slot until the answer ends, even with nobody reading, and frees it then', async () => {
    const env = streamEnv({ ANONYMOUS_CONCURRENT_STREAMS: '1' })
    const first = await created({ ...hello, model: 'silent' }, env)
    const second = await create({ ...hello, model: 'silent' }, {}, env)
    expect(second.status).toBe(429)
    expect(await second.json()).toMatchObject({ error: { code: 'too_many_streams' } })
    // Stopping the first ends it; its object settles the lease, which frees the slot.
    expect((await call(`/api/streams/${first}`, { method: 'DELETE' }, env)).status).toBe(204)
    await until(async () => {
      const third = await create({ ...hello, model: 'demo' }, {}, env)
      return third.status === 201
    })
  })
})
