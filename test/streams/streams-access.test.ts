import { abortAllDurableObjects } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { call, create, created, hello, read, streamEnv, until } from './helpers'

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

  it('a restart mid-answer settles the lease too: the slot is free again, not held until it expires', async () => {
    const env = streamEnv({ ANONYMOUS_CONCURRENT_STREAMS: '1' })
    const id = await created({ ...hello, model: 'silent' }, env)
    expect((await create({ ...hello, model: 'silent' }, {}, env)).status).toBe(429)
    await abortAllDurableObjects() // a deploy or a host failure: the pipeline is gone
    // The next reader wakes the object, which ends the stream as interrupted and settles the lease.
    expect(await (await read(id, undefined, env)).text()).toContain('"code":"interrupted"')
    await until(async () => (await create({ ...hello, model: 'demo' }, {}, env)).status === 201)
  })
})
