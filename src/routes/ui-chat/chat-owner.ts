import type { Context } from 'hono'
import { principalOf } from '../../access/authenticate'
import type { AppEnv } from '../../app-env'
import { GatewayError } from '../../errors'

/**
 * Who owns a `useChat` chat, and so may read, stop or replace it. A chat id is the client's
 * choice (often guessable: `chat-1`), so it names a chat only within its owner's chats.
 *
 * - A caller with credentials owns its principal's chats (a key's, a token's `sub`).
 * - A caller without owns the chats of an owner token: an unguessable value the gateway issues
 *   as an HttpOnly cookie on its first `POST` (`useChat`'s default transport sends it back on the
 *   same origin, and cross-origin with `credentials: 'include'`), or one the app keeps itself and
 *   sends as `X-Chat-Owner` (for a page on another site, where browsers may withhold cookies).
 *   Not the IP address: resuming is for exactly the moments an address changes, and everyone
 *   behind one NAT would share one namespace.
 *
 * Without either, a caller owns no chat: a `GET` finds nothing to resume and a `DELETE` nothing
 * to stop, whatever id it names.
 */
export const OWNER_COOKIE = 'gateway_chat_owner'
export const OWNER_HEADER = 'X-Chat-Owner'

/** 128 bits or more, in the characters of a base64url token: unguessable, and safe in a header. */
const OWNER_TOKEN = /^[A-Za-z0-9_-]{22,128}$/
/** How long the browser keeps the cookie: longer than any chat is kept, so it outlives them all. */
const COOKIE_MAX_AGE_SECONDS = 30 * 24 * 60 * 60

export interface ChatOwner {
  /** The name the owner's chats are kept under (a principal's id, or a hash of the token). */
  id: string
  /** A cookie to set on the response: the owner token was issued with it. */
  setCookie?: string
}

/**
 * The caller's owner, or null when an anonymous caller has no token yet; with `issue`, such a
 * caller is given a new one (a `POST` that starts a chat).
 */
export async function chatOwner(c: Context<AppEnv>, { issue }: { issue: boolean }): Promise<ChatOwner | null> {
  const principal = await principalOf(c)
  if (principal.kind !== 'anonymous') return { id: principal.id }
  const header = c.req.header(OWNER_HEADER)
  if (header !== undefined) {
    if (!OWNER_TOKEN.test(header)) throw badOwnerToken()
    return { id: await ownerId(header) }
  }
  const cookie = cookieOf(c.req.header('Cookie'), OWNER_COOKIE)
  if (cookie !== undefined && OWNER_TOKEN.test(cookie)) return { id: await ownerId(cookie) }
  if (!issue) return null
  const token = newOwnerToken()
  return { id: await ownerId(token), setCookie: ownerCookie(token, new URL(c.req.url).protocol === 'https:') }
}

/** The owner's name: a hash of its token, so the token itself is never stored or logged anywhere. */
async function ownerId(token: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))
  return `owner:${[...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')}`
}

function newOwnerToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
}

/**
 * HttpOnly: no script (an XSS on the app's page included) can read it. SameSite=Strict: sent
 * only with requests from the same site, never from another site's page. Path: only this surface
 * gets it. Secure over https (not on `http://localhost`, where browsers would drop it).
 */
function ownerCookie(token: string, https: boolean): string {
  const attributes = [`Max-Age=${COOKIE_MAX_AGE_SECONDS}`, 'Path=/api/ui/chat', 'HttpOnly', 'SameSite=Strict']
  if (https) attributes.push('Secure')
  return [`${OWNER_COOKIE}=${token}`, ...attributes].join('; ')
}

function cookieOf(header: string | undefined, name: string): string | undefined {
  for (const pair of header?.split(';') ?? []) {
    const [key, ...value] = pair.trim().split('=')
    if (key === name) return value.join('=')
  }
  return undefined
}

const badOwnerToken = () =>
  new GatewayError(400, 'invalid_request', `${OWNER_HEADER} must be 22 to 128 characters of A-Z, a-z, 0-9, _ or -.`, {
    retryable: false,
    issues: [{ path: OWNER_HEADER, message: 'is not an owner token' }],
  })
