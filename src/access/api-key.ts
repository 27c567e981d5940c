/**
 * API keys. A key is 256 random bits behind a recognisable prefix, so a leaked one is easy to
 * spot in a log or a repository and easy to tell from a JWT. The gateway keeps only its SHA-256:
 * a hash of a random 256-bit secret needs no salt or slow hash, since nobody can guess keys to try.
 */
export const API_KEY_PREFIX = 'lsg_'

const KEY_BYTES = 32

/** A fresh key: the prefix and 32 random bytes, base64url. */
export function generateApiKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(KEY_BYTES))
  const base64 = btoa(String.fromCharCode(...bytes))
  return API_KEY_PREFIX + base64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** Lowercase hex SHA-256 of the key's UTF-8 bytes: what `API_KEYS.<name>.sha256` holds. */
export async function hashApiKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key))
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('')
}

export function looksLikeApiKey(credential: string): boolean {
  return credential.startsWith(API_KEY_PREFIX)
}
