/**
 * The person's API key, for models anonymous callers may not use. Kept in `localStorage` so it
 * survives a reload; sent only as `Authorization: Bearer …` (never in a URL, where it would end
 * up in logs and history). docs/chat-page.md says what keeping it in the browser risks.
 */
const KEY = 'llm-stream-gateway:api-key'

export const apiKey = {
  get: (): string | undefined => localStorage.getItem(KEY) || undefined,
  set(value: string): void {
    if (value) localStorage.setItem(KEY, value)
    else localStorage.removeItem(KEY)
  },
}

/** The headers every request of the page carries: the key, if there is one. */
export function authHeaders(): Record<string, string> {
  const key = apiKey.get()
  return key ? { Authorization: `Bearer ${key}` } : {}
}
