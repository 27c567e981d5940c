import { idTag } from './log'

/**
 * A request's path as the log shows it. Stream ids are capabilities (whoever has one can read
 * the answer and stop it), a response id carries its stream's id, and chat ids name a caller's
 * conversations, so none is logged whole: the log keeps its tag (`idTag`) in its place, enough
 * to tell requests for the same id apart from others, not to read it back. A response's tag is
 * its stream id's, the one its `answer ended` line has.
 */
const ID_SEGMENT = /^(\/api\/streams\/|\/api\/ui\/chat\/|\/v1\/responses\/(?:resp_)?)([^/]+)/

export function loggedPath(path: string): string {
  return path.replace(ID_SEGMENT, (_, prefix: string, id: string) => `${prefix}${idTag(id)}`)
}
