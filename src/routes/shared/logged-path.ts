/**
 * A request's path as the log shows it. Stream ids are capabilities (whoever has one can read
 * the answer and stop it) and chat ids name a caller's conversations, so neither is logged
 * whole: the log keeps a short hash in its place, enough to tell requests for the same id apart
 * from others, not to read it back.
 */
const ID_SEGMENT = /^(\/api\/streams\/|\/api\/ui\/chat\/)([^/]+)/

export function loggedPath(path: string): string {
  return path.replace(ID_SEGMENT, (_, prefix: string, id: string) => `${prefix}#${fnv1a(id)}`)
}

/** FNV-1a, 32 bits, in hex: a correlation tag, not a secret (it is synchronous, and short on purpose). */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193)
  return (hash >>> 0).toString(16).padStart(8, '0')
}
