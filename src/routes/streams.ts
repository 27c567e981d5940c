import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import { admitAnswer, releaseAnswer } from '../access/admission'
import { inBackground } from '../background'
import type { AppEnv } from '../app-env'
import { GatewayError, methodNotAllowed } from '../errors'
import { identifyCaller } from '../middleware/identify-caller'
import { limitBody } from '../middleware/limit-body'
import { requireJson } from '../middleware/require-json'
import { EVENT_STREAM_HEADERS } from '../sse/headers'
import type { ReadResult, StreamSettings } from '../streams/answer-stream'
import { isStreamId, newStreamId } from '../streams/stream-id'
import { readChatRequest } from './chat'

/**
 * Resumable answers (`/api/streams`): the answer belongs to a Durable Object, not to the
 * connection, so a reader can leave and come back (`Last-Event-ID`), several can read at once,
 * and a browser's own `EventSource` can read it with a GET.
 *
 * Creating a stream takes the same access as `/api/chat` (credentials, model permission, rate
 * limit, budget and a concurrent-stream slot, held until the answer ends). The stream id is then
 * the capability to read or stop it: `EventSource` cannot send credentials.
 */
export const streams = new Hono<AppEnv>()

streams.post('/', identifyCaller(), requireJson(), limitBody(), async (c) => {
  const { config } = c.var
  // Refused before any object exists: bad requests, unknown or forbidden models, spent limits.
  const { request, lease } = await admitAnswer(c, await readChatRequest(c.req.raw, config))
  const id = newStreamId()
  const stream = streamObject(c, id)
  const settings: StreamSettings = {
    id,
    config,
    retentionMs: config.streamRetentionMs,
    abandonMs: config.streamAbandonMs,
    maxBytes: config.streamMaxBytes,
    lease,
  }
  const begun = await stream.begin(request, settings)
  if (!begun.ok) {
    inBackground(c, releaseAnswer(c.env, lease))
    const { status, code, message, options } = begun.refusal
    throw new GatewayError(status, code, message, options)
  }
  // Whoever asked left while the upstream was being opened, before learning the id: nobody
  // can ever read this answer, so nobody should pay for it.
  if (c.req.raw.signal.aborted) {
    await stream.cancel()
    return new Response(null, { status: 499 })
  }
  const url = new URL(`/api/streams/${id}`, c.req.url).href
  const location = { Location: url }
  if (wantsEventStream(c)) return respond(await stream.read(0, readSettings(c)), location)
  const expiresAt = begun.createdAt + config.streamDeadlineMs + config.streamRetentionMs
  return c.json({ id, url, expires_at: new Date(expiresAt).toISOString() }, 201, location)
})

streams.get('/:id', async (c) => {
  const stream = streamObject(c, knownId(c))
  return respond(await stream.read(lastEventId(c), readSettings(c)))
})

streams.delete('/:id', async (c) => {
  const outcome = await streamObject(c, knownId(c)).cancel()
  if (outcome === 'missing') throw noSuchStream()
  return c.body(null, 204)
})

streams.all('/', () => {
  throw methodNotAllowed('POST', 'Use POST to create a stream.')
})

streams.all('/:id', () => {
  throw methodNotAllowed('GET, DELETE', 'Use GET to read a stream, DELETE to stop it.')
})

export function streamObject(c: Context<AppEnv>, id: string) {
  const namespace = c.env.ANSWER_STREAMS
  if (!namespace) {
    console.error(JSON.stringify({ level: 'error', msg: 'the ANSWER_STREAMS Durable Object binding is missing' }))
    throw new GatewayError(500, 'config_invalid', "The gateway's configuration is invalid; its log names the problem.")
  }
  return namespace.get(namespace.idFromName(id))
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

/**
 * The last event the reader has: `Last-Event-ID` (what `EventSource` sends when it reconnects),
 * else `?last_event_id=` for clients that cannot set headers; none means from the start.
 */
function lastEventId(c: Context<AppEnv>): number {
  const header = c.req.header('Last-Event-ID')
  return header !== undefined
    ? eventIdFrom(header, 'Last-Event-ID')
    : eventIdFrom(c.req.query('last_event_id') ?? '0', 'last_event_id')
}

/** An event id a client sent (the last one it has), or a 400 naming where it came from. */
export function eventIdFrom(value: string, path: string): number {
  if (!/^\d{1,15}$/.test(value.trim())) {
    throw new GatewayError(400, 'invalid_request', 'The last event id must be a whole number.', {
      retryable: false,
      issues: [{ path, message: 'is not an event id' }],
    })
  }
  return Number(value)
}

/** A reader that claims events the answer has not produced yet. */
export function pastTheEnd(lastId: number): GatewayError {
  return new GatewayError(400, 'invalid_request', `The answer has no event after ${lastId} yet.`, {
    retryable: false,
    issues: [{ path: 'Last-Event-ID', message: 'is past the last event of the answer' }],
  })
}

const wantsEventStream = (c: Context<AppEnv>) => c.req.header('Accept')?.includes('text/event-stream') ?? false

const readSettings = (c: Context<AppEnv>) => ({ heartbeatMs: c.var.config.heartbeatMs, retryMs: c.var.config.retryMs })

function respond(result: ReadResult, headers: Record<string, string> = {}): Response {
  switch (result.status) {
    case 200:
      return new Response(result.body, { headers: { ...EVENT_STREAM_HEADERS, ...headers } })
    case 204:
      // After the terminal event: 204 is what tells an EventSource to stop reconnecting.
      return new Response(null, { status: 204, headers })
    case 404:
      throw noSuchStream()
    case 400:
      throw pastTheEnd(result.lastId)
  }
}
