import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * Issue 29, finding 1: a stored answer that has an owner is reachable only by its owner, through
 * every route that can read, resume, stop or delete it. A second key and an anonymous caller try
 * each route with the response's id, the stream id inside it, and every item id of its output;
 * each gets what an id that never existed gets, and the owner's answer is untouched.
 */
let gateway: WranglerDev
const ownerKey = generateApiKey()
const strangerKey = generateApiKey()

beforeAll(async () => {
  gateway = await startWranglerDev({
    DEFAULT_MODEL: 'demo',
    API_KEYS: JSON.stringify({
      owner: { sha256: await hashApiKey(ownerKey), models: ['*'] },
      stranger: { sha256: await hashApiKey(strangerKey), models: ['*'] },
    }),
  })
})

afterAll(async () => {
  await gateway?.stop()
})

type Caller = { name: string; headers: Record<string, string> }
const owner: Caller = { name: 'owner', headers: { Authorization: `Bearer ${ownerKey}` } }
const strangers: Caller[] = [
  { name: 'a second key', headers: { Authorization: `Bearer ${strangerKey}` } },
  { name: 'an anonymous caller', headers: {} },
]

function call(caller: Caller, method: string, path: string, body?: unknown) {
  return fetch(`${gateway.url}${path}`, {
    method,
    headers: { ...caller.headers, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
}

async function createResponse(body: Record<string, unknown>) {
  const response = await call(owner, 'POST', '/v1/responses', { model: 'demo', input: 'hello', ...body })
  expect(response.status).toBe(200)
  return (await response.json()) as { id: string; status: string; output: Array<{ id: string }> }
}

/** Every way in that a stranger could try with what a response's ids reveal. */
function attempts(responseId: string, itemIds: string[]) {
  const streamId = responseId.slice('resp_'.length)
  const paths: Array<[string, string, unknown?]> = [
    ['GET', `/api/streams/${streamId}`],
    ['DELETE', `/api/streams/${streamId}`],
    ['GET', `/v1/responses/${responseId}`],
    ['GET', `/v1/responses/${responseId}?stream=true`],
    ['POST', `/v1/responses/${responseId}/cancel`],
    ['DELETE', `/v1/responses/${responseId}`],
    ['GET', `/v1/responses/${responseId}/input_items`],
    ['POST', '/v1/responses', { model: 'demo', input: 'go on', previous_response_id: responseId }],
    ['POST', '/v1/responses/input_tokens', { model: 'demo', input: 'go on', previous_response_id: responseId }],
  ]
  for (const itemId of itemIds) {
    paths.push(['GET', `/api/streams/${itemId}`], ['DELETE', `/api/streams/${itemId}`])
    paths.push(['POST', '/v1/responses', { model: 'demo', input: [{ type: 'item_reference', id: itemId }] }])
  }
  return paths
}

describe('a stored response, tried by strangers', () => {
  it('is found by no route for anyone but its owner, and stays whole for its owner', async () => {
    const created = await createResponse({ store: true })
    const itemIds = created.output.map((item) => item.id)
    expect(itemIds.length).toBeGreaterThan(0)
    for (const stranger of strangers) {
      for (const [method, path, body] of attempts(created.id, itemIds)) {
        const response = await call(stranger, method, path, body)
        const what = `${stranger.name}: ${method} ${path} ${body ? JSON.stringify(body) : ''}`
        // Anonymous callers have no stored responses at all (401); everyone else gets a 404.
        expect([401, 404], what).toContain(response.status)
        const error = (await response.json()) as { error: { code?: string; type?: string } }
        expect(error.error, what).toBeDefined()
      }
    }
    const mine = await call(owner, 'GET', `/v1/responses/${created.id}`)
    expect(mine.status).toBe(200)
    expect(((await mine.json()) as { status: string }).status).toBe('completed')
  })

  it('keeps running when a stranger tries to stop it by its stream id', async () => {
    // demo-slow falls silent for 20 s: the background response is still running throughout.
    const created = await createResponse({ model: 'demo-slow', store: true, background: true })
    expect(created.status).toBe('in_progress')
    const streamId = created.id.slice('resp_'.length)
    for (const stranger of strangers) {
      expect((await call(stranger, 'DELETE', `/api/streams/${streamId}`)).status).toBe(404)
      expect([401, 404]).toContain((await call(stranger, 'POST', `/v1/responses/${created.id}/cancel`)).status)
    }
    const still = (await (await call(owner, 'GET', `/v1/responses/${created.id}`)).json()) as { status: string }
    expect(still.status).toBe('in_progress')
    const cancelled = await call(owner, 'POST', `/v1/responses/${created.id}/cancel`)
    expect(((await cancelled.json()) as { status: string }).status).toBe('cancelled')
  })
})

describe('an /api/streams answer made with a key', () => {
  it('is read and stopped only with that key; an anonymous one stays a capability', async () => {
    const created = await call(owner, 'POST', '/api/streams', {
      model: 'demo-slow',
      messages: [{ role: 'user', content: 'hi' }],
    })
    expect(created.status).toBe(201)
    const { id } = (await created.json()) as { id: string }
    for (const stranger of strangers) {
      expect((await call(stranger, 'GET', `/api/streams/${id}`)).status).toBe(404)
      expect((await call(stranger, 'DELETE', `/api/streams/${id}`)).status).toBe(404)
    }
    const read = await call(owner, 'GET', `/api/streams/${id}`)
    expect(read.status).toBe(200)
    await read.body!.cancel()
    expect((await call(owner, 'DELETE', `/api/streams/${id}`)).status).toBe(204)

    const anonymous = await call(strangers[1]!, 'POST', '/api/streams', { messages: [{ role: 'user', content: 'hi' }] })
    const { id: open } = (await anonymous.json()) as { id: string }
    const text = await (await call(strangers[1]!, 'GET', `/api/streams/${open}`)).text()
    expect(text).toContain('event: done')
  })
})
