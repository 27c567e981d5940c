import { describe, expect, it } from 'vitest'
import { call, streamEnv } from '../streams/helpers'

/**
 * Issue 19, finding 7: `/v1/chat/completions` answered 500 when a body's keys were named like
 * `Object.prototype`'s own (`constructor`, `__proto__`, `toString`): they were looked up in a
 * plain object of rules and found there. Now every surface treats them as the unknown fields
 * they are, naming each: refused by the gateway's own strict API, ignored and named in
 * `X-Gateway-Ignored` at the top of a translated request (issue 25: unknown fields degrade).
 */
const message = { role: 'user', content: 'hi' }

/** JSON with a literal `__proto__` key, which an object literal cannot make (it sets the prototype). */
const withKey = (json: string, key: string) => json.replace('"KEY"', JSON.stringify(key))

const cases: Array<{ path: string; body: string; field: string; ignored?: true }> = []
for (const key of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'prototype']) {
  const chat = JSON.stringify({ model: 'demo', messages: [message], KEY: { prototype: [] } })
  cases.push({ path: '/v1/chat/completions', body: withKey(chat, key), field: key, ignored: true })
  cases.push({ path: '/api/chat', body: withKey(chat, key), field: key })
  cases.push({ path: '/api/streams', body: withKey(chat, key), field: key })
  const inMessage = JSON.stringify({ model: 'demo', messages: [{ ...message, KEY: 1 }] })
  cases.push({ path: '/v1/chat/completions', body: withKey(inMessage, key), field: `messages.0.${key}` })
  cases.push({ path: '/api/chat', body: withKey(inMessage, key), field: `messages.0.${key}` })
}
// The fuzzer's own find: a tool whose unknown keys include `constructor`, beside a huge number.
cases.push({
  path: '/v1/chat/completions',
  body: JSON.stringify({
    model: 'demo',
    messages: [message],
    tools: [{ type: 1e308, constructor: { prototype: [] }, parameters: {} }],
  }),
  field: 'tools.0.type', // OpenAI's shape names the first issue only
})
cases.push({
  path: '/v1/chat/completions',
  body: JSON.stringify({
    model: 'demo',
    messages: [message],
    tools: [{ type: 'function', constructor: { prototype: [] }, function: { name: 'f', parameters: {} } }],
  }),
  field: 'tools.0.constructor',
})

describe('keys named like the prototype’s', () => {
  for (const { path, body, field, ignored } of cases) {
    it(`${path} ${body.slice(0, 90)}: ${ignored ? '200 ignoring' : '400'} naming ${field}`, async () => {
      const response = await call(
        path,
        { method: 'POST', headers: { 'Content-Type': 'application/json' }, body },
        streamEnv(),
      )
      if (ignored) {
        expect(response.status).toBe(200)
        expect(response.headers.get('X-Gateway-Ignored')).toBe(field)
        return
      }
      expect(response.status).toBe(400)
      const text = await response.text()
      const error = (JSON.parse(text) as { error: { code: string; param?: string; issues?: Array<{ path: string }> } })
        .error
      expect(error.code).toMatch(/^invalid_request|unsupported_parameter$/)
      const named = error.issues?.map((issue) => issue.path) ?? [error.param]
      expect(named).toContain(field)
    })
  }
})
