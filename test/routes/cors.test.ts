import { describe, expect, it } from 'vitest'
import app from '../../src/index'
import { asEnv } from '../helpers/env'

const env = (origins: string): Env =>
  asEnv({
    MODELS: { demo: { adapter: 'demo', token_delay_ms: 0 } },
    CORS_ALLOWED_ORIGINS: origins,
  })
const preflight = (origin: string) => ({
  method: 'OPTIONS',
  headers: {
    Origin: origin,
    'Access-Control-Request-Method': 'POST',
    'Access-Control-Request-Headers': 'content-type',
  },
})

describe('CORS', () => {
  it('answers the preflight of an allowed origin for a JSON POST', async () => {
    const response = await app.request(
      'http://gateway.test/api/chat',
      preflight('https://app.example'),
      env('https://app.example'),
    )
    expect(response.status).toBe(204)
    expect(response.headers.get('Access-Control-Allow-Origin')).toBe('https://app.example')
    expect(response.headers.get('Access-Control-Allow-Methods')).toContain('POST')
    expect(response.headers.get('Access-Control-Allow-Headers')).toContain('Content-Type')
    expect(response.headers.get('Vary')).toContain('Origin')
  })

  it("lets Anthropic's SDK in a page send its key and version headers to /v1/messages", async () => {
    const response = await app.request(
      'http://gateway.test/v1/messages',
      preflight('https://app.example'),
      env('https://app.example'),
    )
    expect(response.status).toBe(204)
    const allowed = response.headers.get('Access-Control-Allow-Headers')!.toLowerCase().split(/,\s*/)
    for (const header of ['x-api-key', 'anthropic-version', 'anthropic-dangerous-direct-browser-access']) {
      expect(allowed).toContain(header)
    }
  })

  it('lets an allowed origin read the stream', async () => {
    const response = await app.request(
      'http://gateway.test/api/models',
      { headers: { Origin: 'https://app.example' } },
      env('https://other.example, https://app.example'),
    )
    expect(response.status).toBe(200)
    expect(response.headers.get('Access-Control-Allow-Origin')).toBe('https://app.example')
  })

  it('refuses other origins with 403 before any model is called', async () => {
    for (const init of [preflight('https://evil.example'), { headers: { Origin: 'https://evil.example' } }]) {
      const response = await app.request('http://gateway.test/api/models', init, env('https://app.example'))
      expect(response.status).toBe(403)
      expect(response.headers.has('Access-Control-Allow-Origin')).toBe(false)
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('origin_not_allowed')
    }
  })

  it('needs no configuration for the Worker’s own origin, and adds no CORS headers to it', async () => {
    const response = await app.request(
      'http://gateway.test/api/models',
      { headers: { Origin: 'http://gateway.test' } },
      env(''),
    )
    expect(response.status).toBe(200)
    expect(response.headers.has('Access-Control-Allow-Origin')).toBe(false)
    expect(response.headers.get('Vary')).toContain('Origin')
  })

  it('allows any origin only when "*" is chosen', async () => {
    const response = await app.request(
      'http://gateway.test/api/models',
      { headers: { Origin: 'https://any.example' } },
      env('*'),
    )
    expect(response.headers.get('Access-Control-Allow-Origin')).toBe('*')
  })

  it('rejects a malformed allowlist as a config error', async () => {
    const response = await app.request('http://gateway.test/api/models', {}, env('app.example'))
    expect(response.status).toBe(500)
  })
})
