import { describe, expect, it } from 'vitest'
import { JwksCache } from '../../src/access/jwks-cache'
import { InvalidToken, verifyJwt } from '../../src/access/jwt'
import type { JwtSettings } from '../../src/config/access'
import { GatewayError } from '../../src/errors'
import { claims, rsaSigningKey, signJwt, type SigningKey } from '../helpers/jwt'
import { asEnv } from '../helpers/env'

const JWKS_URL = 'https://id.example.com/.well-known/jwks.json'
const policy = { models: '*' as const }
const jwksSettings: JwtSettings = {
  verifier: { kind: 'jwks', url: JWKS_URL, algorithms: ['RS256'] },
  issuer: 'https://id.example.com',
  audience: 'gateway',
  policy,
}
const hsSettings: JwtSettings = {
  verifier: { kind: 'hs256', secretName: 'JWT_SECRET' },
  issuer: 'https://id.example.com',
  audience: 'gateway',
  policy,
}
const SECRET = 'a-shared-secret-of-reasonable-length-0123456789'
const env = asEnv({ JWT_SECRET: SECRET })

/** A JWKS endpoint in memory that counts its fetches; `keys` can be swapped to rotate. */
function jwksEndpoint(keys: SigningKey[]) {
  const endpoint = {
    keys,
    fetches: 0,
    failing: false,
    fetch: (async () => {
      endpoint.fetches++
      if (endpoint.failing) return new Response('down', { status: 503 })
      return Response.json({ keys: endpoint.keys.map((k) => k.publicJwk) })
    }) as typeof fetch,
  }
  return endpoint
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected the token to be refused'),
    (error: unknown) => error,
  )
}

describe('verifyJwt against a JWKS (RS256)', async () => {
  const signer = await rsaSigningKey('key-1')
  const stranger = await rsaSigningKey('key-1') // same kid, different key: a forged signature
  const endpoint = jwksEndpoint([signer])
  const cache = new JwksCache(JWKS_URL, { fetch: endpoint.fetch })
  const verifyWith = (token: string) => verifyJwt(token, jwksSettings, env, () => cache)

  it('accepts a valid token and returns its sub', async () => {
    expect(await verifyWith(await signJwt(claims({ sub: 'alice' }), signer))).toBe('alice')
  })

  it.each([
    ['a bad signature', async () => signJwt(claims(), stranger)],
    ['a wrong issuer', async () => signJwt(claims({ iss: 'https://evil.example.com' }), signer)],
    ['a wrong audience', async () => signJwt(claims({ aud: 'another-app' }), signer)],
    ['an expired token', async () => signJwt(claims({ exp: Math.floor(Date.now() / 1000) - 10 }), signer)],
    ['a token not yet valid', async () => signJwt(claims({ nbf: Math.floor(Date.now() / 1000) + 600 }), signer)],
    ['a token without exp', async () => signJwt(claims({ exp: undefined }), signer)],
    ['a token without sub', async () => signJwt(claims({ sub: undefined }), signer)],
    ['alg: none', async () => signJwt(claims(), 'none', { kid: 'key-1' })],
    [
      'an HS256 token (signed with the public key as the secret)',
      async () => signJwt(claims(), { secret: JSON.stringify(signer.publicJwk) }, { kid: 'key-1' }),
    ],
    ['a token for a key the JWKS does not hold', async () => signJwt(claims(), await rsaSigningKey('key-9'))],
    ['a token without kid', async () => signJwt(claims(), signer, { kid: undefined })],
    ['garbage', async () => 'not.a.jwt'],
  ])('refuses %s', async (_, make) => {
    expect(await rejection(verifyWith(await make()))).toBeInstanceOf(InvalidToken)
  })

  it('accepts an audience list that includes ours', async () => {
    expect(await verifyWith(await signJwt(claims({ aud: ['other', 'gateway'] }), signer))).toBe('user-1')
  })
})

describe('verifyJwt with a shared secret (HS256)', () => {
  const verifyWith = (token: string, environment = env) => verifyJwt(token, hsSettings, environment)

  it('accepts a token signed with the secret', async () => {
    expect(await verifyWith(await signJwt(claims({ sub: 'bob' }), { secret: SECRET }))).toBe('bob')
  })

  it('refuses one signed with another secret, an RS256 token, and alg: none', async () => {
    const rs256 = await signJwt(claims(), await rsaSigningKey('k'))
    const tokens = [await signJwt(claims(), { secret: 'another-secret' }), rs256, await signJwt(claims(), 'none')]
    for (const token of tokens) expect(await rejection(verifyWith(token))).toBeInstanceOf(InvalidToken)
  })

  it('is a 503, not a 401, when the secret is not set', async () => {
    const error = await rejection(verifyWith(await signJwt(claims(), { secret: SECRET }), asEnv({})))
    expect(error).toBeInstanceOf(GatewayError)
    expect(error).toMatchObject({ status: 503, code: 'auth_unavailable' })
  })
})

describe('JwksCache', () => {
  it('fetches once for many tokens, and once more when a token names a new kid (rotation)', async () => {
    const first = await rsaSigningKey('first')
    const second = await rsaSigningKey('second')
    const endpoint = jwksEndpoint([first])
    let now = 1_000_000
    const cache = new JwksCache(JWKS_URL, { fetch: endpoint.fetch, now: () => now, cooldownMs: 30_000 })
    const verifyWith = (token: string) => verifyJwt(token, jwksSettings, env, () => cache)

    for (let i = 0; i < 5; i++) await verifyWith(await signJwt(claims(), first))
    expect(endpoint.fetches).toBe(1)

    // The provider rotates: a token with the new kid makes the cache look again, once.
    endpoint.keys = [first, second]
    now += 31_000
    expect(await verifyWith(await signJwt(claims({ sub: 'rotated' }), second))).toBe('rotated')
    expect(endpoint.fetches).toBe(2)

    // Unknown kids within the cooldown do not turn into a fetch each.
    const unknown = await rsaSigningKey('unknown')
    for (let i = 0; i < 5; i++) {
      expect(await rejection(verifyWith(await signJwt(claims(), unknown)))).toBeInstanceOf(InvalidToken)
    }
    expect(endpoint.fetches).toBe(2)
  })

  it('shares one fetch between requests arriving together', async () => {
    const key = await rsaSigningKey('k')
    const endpoint = jwksEndpoint([key])
    const cache = new JwksCache(JWKS_URL, { fetch: endpoint.fetch })
    const token = await signJwt(claims(), key)
    await Promise.all(Array.from({ length: 10 }, () => verifyJwt(token, jwksSettings, env, () => cache)))
    expect(endpoint.fetches).toBe(1)
  })

  it('keeps the keys it has when a refresh fails, and is a 503 when it never had any', async () => {
    const key = await rsaSigningKey('k')
    const endpoint = jwksEndpoint([key])
    let now = 0
    const cache = new JwksCache(JWKS_URL, { fetch: endpoint.fetch, now: () => now, maxAgeMs: 60_000 })
    const token = await signJwt(claims(), key)
    await verifyJwt(token, jwksSettings, env, () => cache)
    endpoint.failing = true
    now += 120_000 // stale: it tries again, fails, and goes on with the old keys
    expect(await verifyJwt(token, jwksSettings, env, () => cache)).toBe('user-1')
    expect(endpoint.fetches).toBe(2)

    const empty = new JwksCache(JWKS_URL, { fetch: endpoint.fetch })
    const error = await rejection(verifyJwt(token, jwksSettings, env, () => empty))
    expect(error).toMatchObject({ status: 503, code: 'auth_unavailable' })
  })
})
