/**
 * JWTs made by hand with WebCrypto (in workerd and in Node alike), independent of the library
 * the gateway verifies them with, so a bug there cannot cancel out here.
 */
const utf8 = new TextEncoder()

export function base64url(bytes: Uint8Array | string): string {
  const data = typeof bytes === 'string' ? utf8.encode(bytes) : bytes
  let binary = ''
  for (const byte of data) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

export interface SigningKey {
  kid: string
  privateKey: CryptoKey
  /** The public half as a JWKS entry. */
  publicJwk: JsonWebKey & { kid: string; alg: string; use: string }
}

/** A fresh RS256 key pair, as an identity provider would publish it. */
export async function rsaSigningKey(kid: string): Promise<SigningKey> {
  const pair = (await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair
  const jwk = (await crypto.subtle.exportKey('jwk', pair.publicKey)) as JsonWebKey
  return {
    kid,
    privateKey: pair.privateKey,
    publicJwk: { kty: jwk.kty, n: jwk.n, e: jwk.e, kid, alg: 'RS256', use: 'sig' },
  }
}

/** Signs with RS256 (a key pair), HS256 (a secret string), or not at all (`alg: none`). */
export async function signJwt(
  payload: Record<string, unknown>,
  signer: SigningKey | { secret: string } | 'none',
  header: Record<string, unknown> = {},
): Promise<string> {
  const alg = signer === 'none' ? 'none' : 'secret' in signer ? 'HS256' : 'RS256'
  const fullHeader = {
    alg,
    typ: 'JWT',
    ...(typeof signer === 'object' && 'kid' in signer && { kid: signer.kid }),
    ...header,
  }
  const input = `${base64url(JSON.stringify(fullHeader))}.${base64url(JSON.stringify(payload))}`
  if (signer === 'none') return `${input}.`
  let signature: ArrayBuffer
  if ('secret' in signer) {
    const key = await crypto.subtle.importKey(
      'raw',
      utf8.encode(signer.secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    )
    signature = await crypto.subtle.sign('HMAC', key, utf8.encode(input))
  } else {
    signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', signer.privateKey, utf8.encode(input))
  }
  return `${input}.${base64url(new Uint8Array(signature))}`
}

/** Claims valid for the next hour. */
export function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000)
  return { sub: 'user-1', iss: 'https://id.example.com', aud: 'gateway', iat: now, exp: now + 3600, ...overrides }
}
