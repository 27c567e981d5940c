import type { Context } from 'hono'
import type { AppEnv } from '../app-env'
import { GatewayError } from '../errors'
import { hashApiKey, looksLikeApiKey } from './api-key'
import { InvalidToken, looksLikeJwt, verifyJwt } from './jwt'
import type { Principal } from './principal'
import { log } from '../log'

/** One message for every kind of bad credential, so a response never says which check failed. */
const UNAUTHORIZED_MESSAGE = 'Missing or invalid credentials. Send an API key or a token as "Authorization: Bearer …".'

/** 401 with `WWW-Authenticate: Bearer`, for missing, malformed, unknown, expired or wrongly signed credentials. */
export function unauthorized(): GatewayError {
  return new GatewayError(401, 'unauthorized', UNAUTHORIZED_MESSAGE, {
    retryable: false,
    headers: { 'WWW-Authenticate': 'Bearer' },
  })
}

/**
 * Who is calling, from the request's credentials, checked once per request (kept in
 * `c.var.principal`). `Authorization: Bearer <key or JWT>` is what the OpenAI SDKs send;
 * `x-api-key` is what Anthropic's send; Cloudflare Access forwards its JWT in
 * `Cf-Access-Jwt-Assertion`. A request with none of them is anonymous; a request with a
 * credential that does not check out is refused (401), never treated as anonymous.
 */
export async function principalOf(c: Context<AppEnv>): Promise<Principal> {
  let principal = c.get('principal')
  if (!principal) c.set('principal', (principal = await authenticate(c)))
  return principal
}

async function authenticate(c: Context<AppEnv>): Promise<Principal> {
  const { access } = c.var.config
  const credential = credentialOf(c)
  if (credential === undefined) {
    const ip = c.req.header('CF-Connecting-IP') ?? 'unknown'
    return { id: `anonymous:${ip}`, kind: 'anonymous', name: 'anonymous', policy: access.anonymous }
  }
  if (looksLikeApiKey(credential)) {
    const key = access.apiKeysByHash.get(await hashApiKey(credential))
    if (!key) throw refused('unknown API key')
    return { id: `key:${key.name}`, kind: 'key', name: key.name, policy: key.policy, admin: key.admin }
  }
  if (access.jwt && looksLikeJwt(credential)) {
    let sub: string
    try {
      sub = await verifyJwt(credential, access.jwt, c.env)
    } catch (error) {
      if (error instanceof InvalidToken) throw refused(`JWT: ${error.message}`)
      throw error
    }
    return { id: `jwt:${sub}`, kind: 'jwt', name: sub, policy: access.jwt.policy, admin: access.adminSubjects.has(sub) }
  }
  throw refused('not an API key or a JWT this gateway accepts')
}

/** The credential the request carries: undefined when none; a 401 when it is malformed or ambiguous. */
function credentialOf(c: Context<AppEnv>): string | undefined {
  const authorization = c.req.header('Authorization')
  const apiKey = c.req.header('x-api-key')
  const access = c.var.config.access.jwt ? c.req.header('Cf-Access-Jwt-Assertion') : undefined
  if (authorization !== undefined) {
    const match = /^Bearer +(\S+) *$/i.exec(authorization)
    if (!match) throw refused('Authorization is not "Bearer <credential>"')
    if (apiKey !== undefined && apiKey !== match[1]) throw refused('Authorization and x-api-key differ')
    return match[1]
  }
  if (apiKey !== undefined) {
    if (!apiKey.trim()) throw refused('empty x-api-key')
    return apiKey.trim()
  }
  return access?.trim() || undefined
}

/** Logs why (never the credential) and returns the one 401 every client sees. */
function refused(reason: string): GatewayError {
  log.info('credentials refused', { reason })
  return unauthorized()
}
