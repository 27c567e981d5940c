import { env as bindings } from 'cloudflare:test'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import app from '../../src/index'
import { eventsOf } from '../helpers/sse'
import { claims, rsaSigningKey, signJwt } from '../helpers/jwt'
import { asEnv, type TestEnv } from '../helpers/env'

/**
 * Who may call what, through the real app in workerd with the real bindings from wrangler.toml
 * (the Rate Limiting binding and the principals' Durable Object, both simulated locally).
 */
const MODELS = {
  demo: { adapter: 'demo', token_delay_ms: 0 },
  paid: { adapter: 'demo', token_delay_ms: 0 }, // stands in for a paid model: not anonymous below
  capped: { adapter: 'demo', token_delay_ms: 0, max_tokens_ceiling: 3 },
}
const JWT_SECRET = 'shared-with-the-backend-0123456789abcdef'
const ISSUER = 'https://id.example.com'

const key = generateApiKey()
const demoOnlyKey = generateApiKey()

async function testEnv(overrides: TestEnv = {}): Promise<Env> {
  return asEnv({
    ...bindings,
    DEFAULT_MODEL: 'demo',
    MODELS,
    ANONYMOUS_MODELS: 'demo',
    API_KEYS: {
      // Upper-case hex: the hash is compared, not its spelling.
      'full-access': { sha256: (await hashApiKey(key)).toUpperCase(), models: ['*'] },
      'demo-only': { sha256: await hashApiKey(demoOnlyKey), models: ['demo'] },
    },
    JWT: { hs256_secret: 'JWT_SECRET', issuer: ISSUER, audience: 'gateway', models: ['paid', 'demo'] },
    JWT_SECRET,
    ...overrides,
  })
}

function post(path: string, body: object, headers: Record<string, string> = {}, environment?: Env) {
  return (async () =>
    app.request(
      path,
      { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) },
      environment ?? (await testEnv()),
    ))()
}

const ask = (model?: string, extra: object = {}) => ({ model, messages: [{ role: 'user', content: 'hi' }], ...extra })
const bearer = (credential: string) => ({ Authorization: `Bearer ${credential}` })

async function errorOf(response: Response) {
  return ((await response.json()) as { error: { code: string; message: string } }).error
}

afterEach(() => vi.restoreAllMocks())

describe('anonymous callers', () => {
  it('may use the anonymous models without credentials', async () => {
    const response = await post('/api/chat', ask('demo'))
    expect(response.status).toBe(200)
    expect(eventsOf(await response.text()).at(-1)).toMatchObject({ event: 'done' })
  })

  it('get 401 with WWW-Authenticate: Bearer for any other model', async () => {
    const response = await post('/api/chat', ask('paid'))
    expect(response.status).toBe(401)
    expect(response.headers.get('WWW-Authenticate')).toBe('Bearer')
    expect(await errorOf(response)).toMatchObject({ code: 'unauthorized' })
  })

  it('are told only of the models they may use, when they name an unknown one', async () => {
    const response = await post('/api/chat', ask('gpt-17'))
    expect(response.status).toBe(400)
    const { message } = await errorOf(response)
    expect(message).toContain('demo')
    expect(message).not.toContain('paid')
  })

  it('by default may use the demo models and not the paid one in wrangler.toml', async () => {
    const defaults = bindings // wrangler.toml as it ships: no ANONYMOUS_MODELS
    const environment = { ...defaults }
    const models = await app.request('/api/models', {}, environment)
    expect(await models.json()).toEqual({
      default: 'demo',
      models: ['demo', 'demo-flaky', 'demo-slow'],
      locked: ['gpt-4o-mini'],
      // Shipped without OPENAI_API_KEY: a picker leaves it out rather than offer a model that fails.
      unavailable: ['gpt-4o-mini'],
      max_message_chars: 32768,
    })
    const paid = await post('/api/chat', ask('gpt-4o-mini'), {}, environment)
    expect(paid.status).toBe(401)
    // Once its secret is set, it is offered (as needing a key) like any other model.
    const withSecret = await app.request('/api/models', {}, { ...defaults, OPENAI_API_KEY: 'sk-test' })
    expect(await withSecret.json()).toMatchObject({ locked: ['gpt-4o-mini'], unavailable: [] })
  })
})

describe('API keys', () => {
  it('are accepted as Authorization: Bearer and as x-api-key, by hash', async () => {
    for (const headers of [bearer(key), { 'x-api-key': key }]) {
      const response = await post('/api/chat', ask('paid'), headers)
      expect(response.status).toBe(200)
      await response.text()
    }
  })

  it.each([
    ['an unknown key', bearer(generateApiKey())],
    ['a key with a character changed', bearer(key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A'))],
    ['a malformed Authorization header', { Authorization: `Basic ${btoa('user:pass')}` }],
    ['an empty bearer', { Authorization: 'Bearer ' }],
    ['a credential that is neither a key nor a JWT', bearer('not-needed')],
    ['two different credentials', { ...bearer(key), 'x-api-key': demoOnlyKey }],
  ])('refuse %s with the one 401, even for an anonymous model', async (_, headers) => {
    const response = await post('/api/chat', ask('demo'), headers)
    expect(response.status).toBe(401)
    expect(response.headers.get('WWW-Authenticate')).toBe('Bearer')
    const text = await response.text()
    expect(JSON.parse(text).error.message).toBe(
      'Missing or invalid credentials. Send an API key or a token as "Authorization: Bearer …".',
    )
    for (const value of Object.values(headers)) expect(text).not.toContain(value.replace(/^Bearer /, '') || '\u0000')
  })

  it('get 403 for a model their key does not allow', async () => {
    const response = await post('/api/chat', ask('paid'), bearer(demoOnlyKey))
    expect(response.status).toBe(403)
    expect(await errorOf(response)).toMatchObject({ code: 'model_not_allowed' })
  })

  it('see only their models in GET /api/models and /v1/models', async () => {
    const environment = await testEnv()
    const list = async (path: string, headers = {}) => (await app.request(path, { headers }, environment)).json()
    // The others are named as locked (a picker shows them as needing a key), never as usable.
    expect(await list('/api/models')).toMatchObject({ default: 'demo', models: ['demo'], locked: ['paid', 'capped'] })
    expect(await list('/api/models', bearer(key))).toMatchObject({
      default: 'demo',
      models: ['demo', 'paid', 'capped'],
      locked: [],
    })
    expect(await list('/api/models', bearer(demoOnlyKey))).toMatchObject({
      default: 'demo',
      models: ['demo'],
      locked: ['paid', 'capped'],
    })
    const v1 = (await list('/v1/models', bearer(demoOnlyKey))) as { data: Array<{ id: string }> }
    expect(v1.data.map((m) => m.id)).toEqual(['demo'])
    expect((await app.request('/api/models', { headers: bearer('lsg_nope') }, environment)).status).toBe(401)
  })

  it('name the principal in the answer log line, never the key', async () => {
    const log = vi.spyOn(console, 'log')
    const response = await post('/api/chat', ask('paid'), bearer(key))
    await response.text()
    const lines = log.mock.calls.map((call) => String(call[0]))
    const answer = lines.find((line) => line.includes('"answer ended"'))
    expect(JSON.parse(answer!)).toMatchObject({ principal: 'full-access', 'gen_ai.request.model': 'paid' })
    for (const line of lines) expect(line).not.toContain(key)
  })
})

describe('JWTs', () => {
  const token = (overrides: object = {}) =>
    signJwt(claims({ iss: ISSUER, sub: 'carol', ...overrides }), { secret: JWT_SECRET })

  it('let the token’s subject use the models JWT allows, and it is the principal', async () => {
    const log = vi.spyOn(console, 'log')
    const jwt = await token()
    const response = await post('/api/chat', ask('paid'), bearer(jwt))
    expect(response.status).toBe(200)
    await response.text()
    const lines = log.mock.calls.map((call) => String(call[0]))
    expect(lines.some((line) => line.includes('"principal":"carol"'))).toBe(true)
    for (const line of lines) expect(line).not.toContain(jwt)
  })

  it('refuse an expired token, another secret’s token and alg none with the same 401', async () => {
    const bad = [
      await token({ exp: Math.floor(Date.now() / 1000) - 1 }),
      await signJwt(claims({ iss: ISSUER }), { secret: 'guessed' }),
      await signJwt(claims({ iss: ISSUER }), 'none'),
    ]
    for (const jwt of bad) {
      const response = await post('/api/chat', ask('demo'), bearer(jwt))
      expect(response.status).toBe(401)
      expect(await response.text()).not.toContain(jwt)
    }
  })

  it('verify against a JWKS URL fetched once, and follow Cloudflare Access’s header', async () => {
    const signer = await rsaSigningKey('access-1')
    const jwksUrl = 'https://team.example.com/cdn-cgi/access/certs'
    const fetches = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
      expect(String(input)).toBe(jwksUrl)
      return Response.json({ keys: [signer.publicJwk] })
    })
    const environment = await testEnv({
      JWT: { jwks_url: jwksUrl, issuer: ISSUER, audience: 'gateway', models: ['demo'] },
    })
    const jwt = await signJwt(claims({ iss: ISSUER, sub: 'dave' }), signer)
    for (const headers of [bearer(jwt), { 'Cf-Access-Jwt-Assertion': jwt }, bearer(jwt)]) {
      const response = await post('/api/chat', ask('demo'), headers, environment)
      expect(response.status).toBe(200)
      await response.text()
    }
    expect(fetches).toHaveBeenCalledTimes(1)
    const hs256 = await signJwt(claims({ iss: ISSUER }), { secret: JWT_SECRET })
    expect((await post('/api/chat', ask('demo'), bearer(hs256), environment)).status).toBe(401)
  })
})

describe('the max_tokens ceiling', () => {
  it('lowers a larger request to the model’s ceiling, and applies when the request sets none', async () => {
    for (const extra of [{ max_tokens: 100 }, {}]) {
      const events = eventsOf(await (await post('/api/chat', ask('capped', extra), bearer(key))).text())
      expect(events.filter((e) => e.event === 'delta')).toHaveLength(3)
      expect(events.at(-1)).toMatchObject({ event: 'done', data: { finish_reason: 'length' } })
    }
  })

  it('holds for a fallback with a lower ceiling than the model asked for', async () => {
    const environment = await testEnv({
      MODELS: {
        ...MODELS,
        primary: { adapter: 'openai', base_url: 'http://127.0.0.1:1/v1', upstream_model: 'm', fallbacks: ['capped'] },
      },
    })
    const events = eventsOf(await (await post('/api/chat', ask('primary'), bearer(key), environment)).text())
    expect(events[0]).toMatchObject({ event: 'start', data: { upstream: 'capped' } })
    expect(events.filter((e) => e.event === 'delta')).toHaveLength(3)
  })
})

describe('the rate limit (Workers Rate Limiting binding)', () => {
  it('refuses a principal past its limit with 429 rate_limited and Retry-After', async () => {
    const name = `limited-${crypto.randomUUID().slice(0, 8)}`
    const own = generateApiKey()
    const environment = await testEnv({
      API_KEYS: {
        [name]: { sha256: await hashApiKey(own), models: ['demo'] },
        other: { sha256: await hashApiKey(key), models: ['demo'] },
      },
    })
    // Spend the principal's allowance on the real binding, then ask once more through the app.
    const limiter = bindings.RATE_LIMIT!
    while ((await limiter.limit({ key: `key:${name}` })).success);
    const response = await post('/api/chat', ask('demo'), bearer(own), environment)
    expect(response.status).toBe(429)
    expect(response.headers.get('Retry-After')).toBe('60')
    expect(await errorOf(response)).toMatchObject({ code: 'rate_limited' })
    // Another principal is not affected.
    expect((await post('/api/chat', ask('demo'), bearer(key), environment)).status).toBe(200)
  })
})

describe('/v1 refusals in OpenAI’s shape', () => {
  it('401 invalid_api_key, 403, and the Authorization header allowed by CORS preflights', async () => {
    const unauthorized = await post('/v1/chat/completions', ask('paid'), bearer('lsg_wrong'))
    expect(unauthorized.status).toBe(401)
    expect(unauthorized.headers.get('WWW-Authenticate')).toBe('Bearer')
    expect(await unauthorized.json()).toEqual({
      error: {
        message: expect.any(String),
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    })
    const forbidden = await post('/v1/chat/completions', ask('paid'), bearer(demoOnlyKey))
    expect(forbidden.status).toBe(403)

    const preflight = await app.request(
      'http://gateway.test/v1/chat/completions',
      {
        method: 'OPTIONS',
        headers: {
          Origin: 'https://app.example',
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'authorization, content-type',
        },
      },
      await testEnv({ CORS_ALLOWED_ORIGINS: 'https://app.example' }),
    )
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('Access-Control-Allow-Headers')).toContain('Authorization')
  })
})

describe('access configuration mistakes', () => {
  it.each([
    ['a key for a model that does not exist', { API_KEYS: { k: { sha256: 'a'.repeat(64), models: ['ghost'] } } }],
    ['a key whose hash is not a SHA-256', { API_KEYS: { k: { sha256: 'abc', models: ['demo'] } } }],
    [
      'a JWT config with both a JWKS and a secret',
      { JWT: { jwks_url: 'https://a.example/jwks', hs256_secret: 'S', issuer: 'i', audience: 'a', models: ['demo'] } },
    ],
    [
      'a JWT config accepting alg none',
      {
        JWT: { jwks_url: 'https://a.example/jwks', algorithms: ['none'], issuer: 'i', audience: 'a', models: ['demo'] },
      },
    ],
    ['an anonymous model that does not exist', { ANONYMOUS_MODELS: 'demo, ghost' }],
    ['limits without the Durable Object', { PRINCIPAL_LIMITS: undefined, ANONYMOUS_CONCURRENT_STREAMS: '2' }],
  ])('%s is a 500 config_invalid', async (_, overrides) => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    const response = await post('/api/chat', ask('demo'), {}, await testEnv(overrides as TestEnv))
    expect(response.status).toBe(500)
    expect(await errorOf(response)).toMatchObject({ code: 'config_invalid' })
    expect(error).toHaveBeenCalled()
  })
})
