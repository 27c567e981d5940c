import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import { admitAnswer } from '../../../access/admission'
import { principalOf } from '../../../access/authenticate'
import type { AppEnv } from '../../../app-env'
import { GatewayError, methodNotAllowed, unsupportedParameter } from '../../../errors'
import { openAIResponsesFormat, responseObject } from '../../../dialects/responses/format'
import { identifyCaller } from '../../../middleware/identify-caller'
import { rateLimited } from '../../../middleware/rate-limited'
import { limitBody } from '../../../middleware/limit-body'
import { requireJson } from '../../../middleware/require-json'
import { isObject } from '../../../request/json-shape'
import { openAdmittedAnswer, streamAnswer, withAttempts } from '../../shared/answer'
import { streamFromFirstHeartbeat } from '../../shared/first-heartbeat'
import { answerFromCache } from '../../shared/cached-answer'
import { inBackground } from '../../shared/background'
import { noteIgnored } from '../../shared/ignored-fields'
import { passesThrough } from '../../../dialects/openai-pass-through'
import { jsonBody } from '../../shared/json-body'
import { beginStoredAnswer, clientClosed, readOptions } from '../../shared/stored-answer'
import { wholeAnswer } from '../../shared/whole-answer'
import { openAIError } from '../../../dialects/openai-errors'
import { compact, compactionUnsupported } from './compact'
import { validateAtResponsesPaths } from '../../../dialects/responses/validate'
import { conversation } from './conversation'
import { inputItemsPage } from './input-items'
import { inputTokens } from './input-tokens'
import { nativeResponses } from '../../../dialects/responses/pass-through'
import { fromResponsesRequest } from '../../../dialects/responses/request'
import { noSuchResponse, ownedResponse, responseIdOf, snapshotOf, storingPrincipal, type KeptResponse } from './stored'
import { idleToolFields } from '../../../request/idle-tool-fields'

/**
 * OpenAI's Responses API (`/v1/responses`), the default path of today's OpenAI clients, over
 * the same pipeline as every surface. A response is stored (`store`, OpenAI's default) in the
 * answer's Durable Object, which runs it, keeps it for the streams' retention and replays it in
 * this format from any `sequence_number`; `store: false` streams straight from the pipeline and
 * keeps nothing. Stored responses belong to the principal that made them: callers without
 * credentials get answers, never storage. See docs/responses-api.md.
 */
export const responses = new Hono<AppEnv>()

const FORMAT = 'openai-responses'

responses.post('/', identifyCaller(), rateLimited(), requireJson(), limitBody(), async (c) => {
  const body = await jsonBody(c)
  const passed = passesThrough(c.var.config, isObject(body) ? body.model : undefined, 'responses')
  const request = fromResponsesRequest(body, c.var.config, { lenient: passed })
  // Passed through, only what the adapter leaves out of the caller's body is dropped.
  noteIgnored(c, passed && isObject(body) ? idleToolFields(body) : request.ignored)
  const principal = await principalOf(c)
  if (request.background) {
    await storingPrincipal(c, 'background')
    if (!request.store) throw unsupportedParameter('background', 'needs store: true, to be read back later.')
  }
  const held = await conversation(c, request)
  const chat = validateAtResponsesPaths(
    c.var.config,
    { ...request.chat, messages: held.messages },
    held.sources,
    request.toolPaths,
  )
  const native = passed ? { native: nativeResponses(body as Record<string, unknown>, held) } : {}
  const admission = await admitAnswer(c, { ...chat, ...native })
  const { lease } = admission
  const store = request.store && principal.kind !== 'anonymous'
  const echo = { ...request.echo, store }

  if (!store) {
    const id = `resp_${crypto.randomUUID().replaceAll('-', '')}`
    // Only a response that is not stored can come from the cache: a stored one has an id of its own to read back.
    const cached = await answerFromCache(c, admission, { name: FORMAT, options: { echo } }, id)
    if (cached && request.stream) return new Response(cached, { headers: openAIResponsesFormat.headers })
    if (cached) return wholeAnswer(c, (left) => whole(c, cached, left), renderError(c))
    if (request.stream) return streamFromFirstHeartbeat(c, admission, openAIResponsesFormat, { echo }, { startId: id })
    const opened = await openAdmittedAnswer(c, admission)
    const response = streamAnswer(c, opened, lease, openAIResponsesFormat, { echo }, { startId: id })
    // Leaving cancels the stream read here, and with it the upstream.
    return withAttempts(await wholeAnswer(c, (left) => whole(c, response.body!, left), renderError(c)), opened.attempts)
  }

  const kept: KeptResponse = {
    owner: principal.id,
    messages: admission.request.messages.slice(request.instructions === undefined ? 0 : 1),
    echo,
    model: admission.request.model,
    createdAt: Math.floor(Date.now() / 1000),
  }
  const answer = await beginStoredAnswer(c, 'responses', admission, {
    owner: principal.id,
    startId: responseIdOf,
    unattended: request.background,
    attachment: JSON.stringify(kept),
  })
  if (!answer) return clientClosed()
  const id = responseIdOf(answer.streamId)
  if (request.background && !request.stream) {
    // At once: the answer runs in its object whether anyone reads it or not.
    return withAttempts(
      c.json(
        responseObject({ id, createdAt: kept.createdAt, model: kept.model, status: 'in_progress', output: [], echo }),
      ),
      answer.attempts,
    )
  }
  const read = await answer.stream.read(0, readOptions(c, { name: FORMAT, options: { echo } }, { owner: principal.id }))
  if (read.status !== 200) throw noSuchResponse(id)
  if (request.stream)
    return withAttempts(new Response(read.body, { headers: openAIResponsesFormat.headers }), answer.attempts)
  const stored = await wholeAnswer(
    c,
    async (left) => {
      // A stored answer goes on when its reader leaves, for whoever comes back with its id; but a
      // whole answer's client learns the id only with the answer: nobody can come back for it.
      const forsaken = () => inBackground(c, answer.stream.cancel(principal.id))
      left.addEventListener('abort', forsaken, { once: true })
      try {
        return await whole(c, read.body, left)
      } finally {
        left.removeEventListener('abort', forsaken)
      }
    },
    renderError(c),
  )
  return withAttempts(stored, answer.attempts)
})

const renderError = (c: Context<AppEnv>) => (error: Error) => openAIError(error, c)

// Before `/:id`, which would take these names for response ids.
responses.post('/input_tokens', identifyCaller(), rateLimited(), requireJson(), limitBody(), inputTokens)

// Compaction: forwarded to a model served through OpenAI's Responses API, else a 404 that says
// so, for every method, rather than a 405 that would suggest another method works.
responses.post('/compact', identifyCaller(), rateLimited(), requireJson(), limitBody(), compact)
responses.all('/compact', () => {
  throw compactionUnsupported()
})

responses.all('/input_tokens', () => {
  throw methodNotAllowed('POST', "Use POST to count a request's input tokens.")
})

responses.get('/:id', identifyCaller(), rateLimited(), async (c) => {
  const owned = await ownedResponse(c, c.req.param('id'))
  if (c.req.query('stream') !== 'true') return c.json(await snapshotOf(owned))
  // Replayed from the first event, whatever the client has: see `OpenAIResponsesOptions.startingAfter`.
  const options = { echo: owned.kept.echo, startingAfter: startingAfter(c) }
  const read = await owned.stream.read(0, readOptions(c, { name: FORMAT, options }, { owner: owned.owner }))
  if (read.status !== 200) throw noSuchResponse(owned.id)
  return new Response(read.body, { headers: openAIResponsesFormat.headers })
})

responses.post('/:id/cancel', identifyCaller(), rateLimited(), async (c) => {
  const owned = await ownedResponse(c, c.req.param('id'))
  if (owned.kept.echo.background !== true) {
    throw new GatewayError(400, 'invalid_request', 'Only responses created with background: true can be cancelled.', {
      retryable: false,
    })
  }
  // Stopped now, or already over (then it stays as it ended): either way, it is returned as it stands.
  await owned.stream.cancel(owned.owner)
  return c.json(await snapshotOf(owned))
})

responses.delete('/:id', identifyCaller(), rateLimited(), async (c) => {
  const owned = await ownedResponse(c, c.req.param('id'))
  if (!(await owned.stream.forget(owned.owner))) throw noSuchResponse(owned.id)
  return c.json({ id: owned.id, object: 'response', deleted: true })
})

responses.get('/:id/input_items', identifyCaller(), rateLimited(), async (c) => {
  return c.json(inputItemsPage(c, await ownedResponse(c, c.req.param('id'))))
})

// A 405 only where the path exists with another method; any other path falls through to `/v1`'s
// 404 (`next()`), which names what there is.
responses.all('/', () => {
  throw methodNotAllowed('POST', 'Use POST to create a response.')
})

responses.all('/:id', (c, next) => {
  if (!isResponseId(c.req.param('id'))) return next()
  throw methodNotAllowed('GET, DELETE', 'Use GET to retrieve a response, DELETE to delete it.')
})

responses.all('/:id/cancel', (c, next) => {
  if (!isResponseId(c.req.param('id'))) return next()
  throw methodNotAllowed('POST', 'Use POST to cancel a response.')
})

responses.all('/:id/input_items', (c, next) => {
  if (!isResponseId(c.req.param('id'))) return next()
  throw methodNotAllowed('GET', "Use GET to list a response's input items.")
})

/** What a response id looks like (`resp_…`): any other segment is a path the gateway does not serve. */
const isResponseId = (segment: string) => segment.startsWith('resp_')

responses.onError(openAIError)

/** `starting_after`: a sequence number the client has, or -1 for all. */
function startingAfter(c: Context<AppEnv>): number {
  const value = c.req.query('starting_after')
  if (value === undefined) return -1
  if (!/^\d{1,15}$/.test(value)) {
    throw new GatewayError(400, 'invalid_request', 'starting_after must be a whole number.', {
      retryable: false,
      issues: [{ path: 'starting_after', message: 'is not a sequence number' }],
    })
  }
  return Number(value)
}

/**
 * A whole response for a client that asked not to stream: the stream read to its end, and its
 * last event's response. Only a response that ended by itself (`completed`, or `incomplete` at
 * its token limit) is sent as one; a failure is an error status in OpenAI's shape, with our code.
 * The client leaving (`left`) stops reading, which stops the answer as it would a stream.
 */
async function whole(c: Context<AppEnv>, body: ReadableStream<Uint8Array>, left: AbortSignal): Promise<Response> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader()
  const leave = () => void reader.cancel().catch(() => {})
  if (left.aborted) leave()
  left.addEventListener('abort', leave)
  let text = ''
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      text += value
    }
  } finally {
    left.removeEventListener('abort', leave)
  }
  // JSON holds no raw newline, so events split on blank lines; heartbeats are comments.
  const last = text
    .split('\n\n')
    .filter((block) => block.startsWith('event: '))
    .at(-1)
  const event =
    last && (JSON.parse(last.slice(last.indexOf('\ndata: ') + 7)) as { type: string; response?: FinalResponse })
  const response = event && event.response
  if (!response || event.type === 'response.created' || event.type === 'response.in_progress') {
    throw new GatewayError(502, 'upstream_truncated', 'The answer ended without a result.', { retryable: true })
  }
  if (event.type === 'response.failed') {
    const code = response.error?.code ?? 'internal_error'
    const status = code.includes('timeout') || code === 'deadline_exceeded' ? 504 : 502
    throw new GatewayError(status, code, response.error?.message ?? 'The answer failed.', { retryable: true })
  }
  return c.json(response)
}

interface FinalResponse {
  error?: { code: string; message: string } | null
}
