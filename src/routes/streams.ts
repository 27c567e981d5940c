import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import { admitAnswer } from '../access/admission'
import { principalOf } from '../access/authenticate'
import type { AppEnv } from '../app-env'
import { GatewayError, methodNotAllowed } from '../errors'
import { formats } from '../formats'
import { identifyCaller } from '../middleware/identify-caller'
import { limitBody } from '../middleware/limit-body'
import { rateLimited } from '../middleware/rate-limited'
import { requireJson } from '../middleware/require-json'
import { validateChatRequest } from '../request/validate'
import type { ReadResult } from '../streams/answer-stream'
import { isStreamId } from '../streams/stream-id'
import { lastEventId, pastTheEnd } from './shared/event-ids'
import { jsonBody } from './shared/json-body'
import { ATTEMPTS_HEADER } from './shared/answer'
import { answerStream, beginStoredAnswer, clientClosed, readOptions } from './shared/stored-answer'

/**
 * Resumable answers (`/api/streams`): the answer belongs to a Durable Object, not to the
 * connection, so a reader can leave and come back (`Last-Event-ID`), several can read at once,
 * and a browser's own `EventSource` can read it with a GET.
 *
 * Creating a stream takes the same access as `/api/chat` (credentials, model permission, rate
 * limit, budget and a concurrent-stream slot, held until the answer ends). The stream id is then
 * the capability to read or stop it: `EventSource` cannot send credentials. Reading and stopping
 * count against the caller's rate limit (by IP without credentials), so ids cannot be probed
 * at will.
 */
export const streams = new Hono<AppEnv>()

/** Our own events, with their ids: what makes `Last-Event-ID` work. */
const GATEWAY = { name: 'gateway' } as const

streams.post('/', identifyCaller(), rateLimited(), requireJson(), limitBody(), async (c) => {
  // Refused before any object exists: bad requests, unknown or forbidden models, spent limits.
  const admission = await admitAnswer(c, validateChatRequest(await jsonBody(c), c.var.config))
  const owner = await ownerOf(c)
  const answer = await beginStoredAnswer(c, 'streams', admission, { owner })
  if (!answer) return clientClosed()
  const { streamId: id, stream, expiresAt, attempts } = answer
  const url = new URL(`/api/streams/${id}`, c.req.url).href
  const headers = { Location: url, [ATTEMPTS_HEADER]: String(attempts) }
  if (wantsEventStream(c)) return respond(await stream.read(0, readOptions(c, GATEWAY, { owner })), headers)
  return c.json({ id, url, expires_at: new Date(expiresAt).toISOString() }, 201, headers)
})

streams.get('/:id', rateLimited(), async (c) => {
  const stream = answerStream(c, 'streams', knownId(c))
  return respond(await stream.read(lastEventId(c) ?? 0, readOptions(c, GATEWAY, { owner: await ownerOf(c) })))
})

streams.delete('/:id', rateLimited(), async (c) => {
  const outcome = await answerStream(c, 'streams', knownId(c)).cancel(await ownerOf(c))
  if (outcome === 'missing') throw noSuchStream()
  return c.body(null, 204)
})

streams.all('/', () => {
  throw methodNotAllowed('POST', 'Use POST to create a stream.')
})

streams.all('/:id', () => {
  throw methodNotAllowed('GET, DELETE', 'Use GET to read a stream, DELETE to stop it.')
})

/**
 * A stream made with credentials belongs to their principal: reading or stopping it takes the
 * same credentials (the client module sends them; an `EventSource` cannot, so a page reads the
 * streams it made without any). Without credentials the id alone is the capability.
 */
async function ownerOf(c: Context<AppEnv>): Promise<string | undefined> {
  const principal = await principalOf(c)
  return principal.kind === 'anonymous' ? undefined : principal.id
}

/** The id in the path, if it could be a stream's: a malformed one is a 404 like an unknown one. */
function knownId(c: Context<AppEnv>): string {
  const id = c.req.param('id') ?? ''
  if (!isStreamId(id)) throw noSuchStream()
  return id
}

const noSuchStream = () =>
  new GatewayError(404, 'stream_not_found', 'No such stream: it never existed, or it has expired.', {
    retryable: false,
  })

const wantsEventStream = (c: Context<AppEnv>) => c.req.header('Accept')?.includes('text/event-stream') ?? false

function respond(result: ReadResult, headers: Record<string, string> = {}): Response {
  switch (result.status) {
    case 200:
      return new Response(result.body, { headers: { ...formats.gateway.headers, ...headers } })
    case 204:
      // After the terminal event: 204 is what tells an EventSource to stop reconnecting.
      return new Response(null, { status: 204, headers })
    case 404:
      throw noSuchStream()
    case 400:
      throw pastTheEnd(result.lastId)
  }
}
