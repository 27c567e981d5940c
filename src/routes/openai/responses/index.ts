import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import { admitAnswer } from '../../../access/admission'
import { principalOf } from '../../../access/authenticate'
import type { AppEnv } from '../../../app-env'
import { GatewayError, methodNotAllowed, unsupportedParameter } from '../../../errors'
import { openAIResponsesFormat, responseObject } from '../../../formats/openai-responses'
import { identifyCaller } from '../../../middleware/identify-caller'
import { rateLimited } from '../../../middleware/rate-limited'
import { limitBody } from '../../../middleware/limit-body'
import { requireJson } from '../../../middleware/require-json'
import type { ChatMessage, ChatRequest } from '../../../request/chat-request'
import { jsonChars } from '../../../request/json-limits'
import { validateChatRequest } from '../../../request/validate'
import { openAdmittedAnswer, streamAnswer } from '../../shared/answer'
import { answerFromCache } from '../../shared/cached-answer'
import { inBackground } from '../../shared/background'
import { noteIgnored } from '../../shared/ignored-fields'
import { jsonBody } from '../../shared/json-body'
import { beginStoredAnswer, clientClosed, readOptions } from '../../shared/stored-answer'
import { wholeAnswer } from '../../shared/whole-answer'
import { openAIError } from '../errors'
import { atResponsesPath, fromResponsesRequest, type ResponsesRequest } from './request'
import {
  conversationBefore,
  itemResolver,
  noSuchResponse,
  ownedResponse,
  responseIdOf,
  snapshotOf,
  storingPrincipal,
  type KeptResponse,
} from './stored'

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
  const request = fromResponsesRequest(await jsonBody(c), c.var.config)
  noteIgnored(c, request.ignored)
  const principal = await principalOf(c)
  if (request.background) {
    await storingPrincipal(c, 'background')
    if (!request.store) throw unsupportedParameter('background', 'needs store: true, to be read back later.')
  }
  const { messages, sources } = await conversation(c, request)
  const admission = await admitAnswer(c, validateAtResponsesPaths(c, { ...request.chat, messages }, sources))
  const { lease } = admission
  const store = request.store && principal.kind !== 'anonymous'
  const echo = { ...request.echo, store }

  if (!store) {
    const id = `resp_${crypto.randomUUID().replaceAll('-', '')}`
    // Only a response that is not stored can come from the cache: a stored one has an id of its own to read back.
    const cached = await answerFromCache(c, admission, { name: FORMAT, options: { echo } }, id)
    if (cached && request.stream) return new Response(cached, { headers: openAIResponsesFormat.headers })
    if (cached) return wholeAnswer(c, (left) => whole(c, cached, left), renderError(c))
    const opened = await openAdmittedAnswer(c, admission)
    const response = streamAnswer(c, opened, lease, openAIResponsesFormat, { echo }, { startId: id })
    if (request.stream) return response
    // Leaving cancels the stream read here, and with it the upstream.
    return wholeAnswer(c, (left) => whole(c, response.body!, left), renderError(c))
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
    return c.json(
      responseObject({ id, createdAt: kept.createdAt, model: kept.model, status: 'in_progress', output: [], echo }),
    )
  }
  const read = await answer.stream.read(0, readOptions(c, { name: FORMAT, options: { echo } }, { owner: principal.id }))
  if (read.status !== 200) throw noSuchResponse(id)
  if (request.stream) return new Response(read.body, { headers: openAIResponsesFormat.headers })
  return wholeAnswer(
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
})

const renderError = (c: Context<AppEnv>) => (error: Error) => openAIError(error, c)

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

responses.all('/', () => {
  throw methodNotAllowed('POST', 'Use POST to create a response.')
})

responses.all('/:id', () => {
  throw methodNotAllowed('GET, DELETE', 'Use GET to retrieve a response, DELETE to delete it.')
})

responses.all('/:id/cancel', () => {
  throw methodNotAllowed('POST', 'Use POST to cancel a response.')
})

responses.onError(openAIError)

/**
 * The messages to send, with the caller's path for each: `instructions`, the conversation
 * `previous_response_id` continues, and the input, its `item_reference`s filled in (at most
 * `MAX_MESSAGES` of them, which the translation made sure of, each item resolved once).
 *
 * Filled in, a small request can grow: 99 references to one long item once made a 6 KB body into
 * a 3.2 MB request sent upstream and stored. So the conversation is held to the size of the
 * largest body the gateway accepts (`MAX_BODY_BYTES`, as characters of JSON), counted as it
 * grows: past it, a 413 naming the part that crossed it, before anything more is resolved.
 */
async function conversation(
  c: Context<AppEnv>,
  request: ResponsesRequest,
): Promise<{ messages: unknown[]; sources: string[] }> {
  const limit = c.var.config.maxBodyBytes
  const messages: unknown[] = []
  const sources: string[] = []
  let size = 0
  const add = (source: string, added: unknown[]) => {
    size += jsonChars(added)
    if (size > limit) throw conversationTooLarge(source, limit)
    messages.push(...added)
    sources.push(...added.map(() => source))
  }
  if (request.instructions !== undefined) add('instructions', [{ role: 'system', content: request.instructions }])
  if (request.references.length) await storingPrincipal(c, 'item_reference')
  if (request.previousResponseId) {
    add('previous_response_id', await conversationBefore(c, request.previousResponseId))
  }
  const referenced = itemResolver(c)
  const references = new Map(request.references.map((reference) => [reference.at, reference]))
  for (const [i, message] of request.chat.messages.entries()) {
    const reference = references.get(i)
    if (reference) add(reference.path, await referenced(reference.id, reference.path))
    else add(request.sources[i]!, [message])
  }
  return { messages: joinToolCalls(messages), sources }
}

function conversationTooLarge(source: string, limit: number): GatewayError {
  return new GatewayError(
    413,
    'conversation_too_large',
    `The conversation, with its previous response and item references filled in, is larger than ${limit} characters of JSON (MAX_BODY_BYTES).`,
    { retryable: false, issues: [{ path: source, message: `takes the conversation past ${limit} characters` }] },
  )
}

/**
 * An assistant turn referred to by id, then the calls it made sent in full, are one turn in
 * Chat Completions' shape (the AI SDK sends its tool loops so).
 */
function joinToolCalls(messages: unknown[]): unknown[] {
  const joined: unknown[] = []
  for (const message of messages) {
    const previous = joined.at(-1) as Partial<Extract<ChatMessage, { role: 'assistant' }>> | undefined
    const current = message as Partial<Extract<ChatMessage, { role: 'assistant' }>>
    if (
      previous?.role === 'assistant' &&
      current?.role === 'assistant' &&
      current.content == null &&
      current.tool_calls
    ) {
      joined[joined.length - 1] = { ...previous, tool_calls: [...(previous.tool_calls ?? []), ...current.tool_calls] }
    } else joined.push(message)
  }
  return joined
}

/** `/api/chat`'s schema and limits, with each issue at the path the caller sent. */
function validateAtResponsesPaths(c: Context<AppEnv>, chat: unknown, sources: string[]): ChatRequest {
  try {
    return validateChatRequest(chat, c.var.config)
  } catch (error) {
    if (!(error instanceof GatewayError) || !error.options.issues) throw error
    const { status, code, message, options } = error
    const issues = options.issues!.map((issue) => ({ ...issue, path: atResponsesPath(issue.path, sources) }))
    throw new GatewayError(status, code, message, { ...options, issues })
  }
}

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
