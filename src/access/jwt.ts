import { decode, verify } from 'hono/jwt'
import { secret } from '../config/bindings'
import type { JwtSettings } from '../config/access'
import { GatewayError } from '../errors'
import { log } from '../log'
import type { JwksCache } from './jwks-cache'
import { jwksCacheFor } from './jwks-cache'

/** Why a token was refused, for the operator's log. Never the token or its claims. */
export class InvalidToken extends Error {
  override readonly name = 'InvalidToken'
}

/** Tokens longer than this are refused before any parsing. Real ones are well under 4 KiB. */
const MAX_TOKEN_CHARS = 8192

export function looksLikeJwt(credential: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]*$/.test(credential)
}

/**
 * Verifies a JWT and returns its subject. The algorithm comes from the configuration, never from
 * the token: a JWKS config accepts only the asymmetric algorithms it lists, a shared-secret config
 * only HS256, so `alg: none` and the old HS256-signed-with-the-public-key trick both fail. Checked
 * by `hono/jwt`: the signature, `exp`, `nbf`, `iat`, `iss` and `aud`. Required here as
 * well: an `exp` (a token that never expires is refused) and a non-empty `sub`.
 *
 * Throws `InvalidToken` for every way a token is wrong, and a 503 `GatewayError` when the
 * gateway itself cannot verify (the JWKS cannot be fetched, the shared secret is not set).
 */
export async function verifyJwt(
  token: string,
  settings: JwtSettings,
  env: Env,
  jwks: (url: string) => JwksCache = jwksCacheFor,
): Promise<string> {
  if (token.length > MAX_TOKEN_CHARS) throw new InvalidToken('too long')
  let header: { alg?: unknown; kid?: unknown }
  try {
    header = decode(token).header
  } catch {
    throw new InvalidToken('malformed')
  }
  const { verifier } = settings
  const allowed: readonly string[] = verifier.kind === 'jwks' ? verifier.algorithms : ['HS256']
  if (typeof header.alg !== 'string' || !allowed.includes(header.alg)) {
    throw new InvalidToken(`algorithm not allowed: ${String(header.alg).slice(0, 16)}`)
  }
  const alg = header.alg as 'HS256'

  let key: Parameters<typeof verify>[1]
  if (verifier.kind === 'jwks') {
    if (typeof header.kid !== 'string') throw new InvalidToken('no kid')
    const jwk = await jwks(verifier.url).key(header.kid)
    if (!jwk) throw new InvalidToken('unknown kid')
    if (jwk.alg !== undefined && jwk.alg !== alg) throw new InvalidToken('key is for another algorithm')
    key = jwk
  } else {
    const sharedKey = secret(env, verifier.secretName)
    if (!sharedKey) {
      log.error('missing JWT secret', { secret: verifier.secretName })
      throw new GatewayError(503, 'auth_unavailable', 'The gateway cannot verify tokens right now.', {
        retryable: false,
      })
    }
    key = sharedKey
  }

  let payload: Record<string, unknown>
  try {
    payload = await verify(token, key, { alg, iss: settings.issuer, aud: settings.audience })
  } catch (error) {
    // hono's error messages can quote the token: only the error's class goes to the log.
    throw new InvalidToken(error instanceof Error ? error.name : 'verification failed')
  }
  if (typeof payload.exp !== 'number') throw new InvalidToken('no exp')
  if (typeof payload.sub !== 'string' || !payload.sub || payload.sub.length > 256) throw new InvalidToken('no sub')
  return payload.sub
}
