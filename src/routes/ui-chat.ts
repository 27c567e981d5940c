import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import { admitAnswer, releaseAnswer } from '../access/admission'
import { principalOf } from '../access/authenticate'
import type { AppEnv } from '../app-env'
import { inBackground } from '../background'
import { GatewayError, methodNotAllowed } from '../errors'
import { identifyCaller } from '../middleware/identify-caller'
import { limitBody } from '../middleware/limit-body'
import { requireJson } from '../middleware/require-json'
import type { ChatRequest } from '../schema/chat-request'
import type { ReadResult } from '../streams/answer-stream'
import { chatIndexName } from '../streams/chat-index'
import { newStreamId } from '../streams/stream-id'
import { UI_MESSAGE_STREAM_HEADERS, uiMessageFormat } from '../ui-message-stream/chunk-encoder'
import { atUIPaths, fromUIChatRequest } from '../ui-message-stream/request'
import { openAdmittedAnswer, streamAnswer } from './answer'
import { validateChatRequest } from './chat'
import { eventIdFrom, pastTheEnd, streamObject } from './streams'

/**
 * The Vercel AI SDK's `useChat` speaks to this surface unchanged (`/api/ui/chat`): its POST
 * starts an answer as a resumable stream and streams it as a UI message stream; `GET
 * /api/ui/chat/{chatId}/stream` (what `useChat({ resume: true })` calls on mount) replays and
 * continues the chat's active answer, or says 204 when there is none; `DELETE` on the same path
 * stops it, which `stop()` alone cannot do when the answer outlives the connection.
 *
 * Chats are found by (principal, chat id) in a `ChatIndex` object; the stream id behind a chat is
 * never shown to the client here, so the chat id and the principal are the only way in.
 */
export const uiChat = new Hono<AppEnv>()

uiChat.post('/', identifyCaller(), requireJson(), limitBody(), async (c) => {
  const { config } = c.var
  let body: unknown
  try {
    body = await c.req.json()
  } catch {
    throw new GatewayError(400, 'invalid_json', 'The request body is not valid JSON.', { retryable: false })
  }
  const { chatId, resumable, chat, sourceIndex } = fromUIChatRequest(body)
  // Refused before any object exists: bad requests, unknown or forbidden models, spent limits.
  const admission = await admitAnswer(c, validateAtUIPaths(chat, c, sourceIndex))
  if (!resumable) {
    // Not kept: straight from the pipeline, as /api/chat; the client leaving cancels the model.
    const answer = await openAdmittedAnswer(c, admission)
    return streamAnswer(c, answer, uiMessageFormat(), admission.lease, UI_MESSAGE_STREAM_HEADERS)
  }
  const { request, lease } = admission

  const streamId = newStreamId()
  const stream = streamObject(c, streamId)
  const begun = await stream.begin(request, {
    // The assistant message's id, which the `start` chunk carries; the stream id stays here.
    id: `msg_${newStreamId()}`,
    path: c.req.path,
    config,
    retentionMs: config.streamRetentionMs,
    abandonMs: config.streamAbandonMs,
    maxBytes: config.streamMaxBytes,
    lease,
  })
  if (!begun.ok) {
    inBackground(c, releaseAnswer(c.env, lease))
    const { status, code, message, options } = begun.refusal
    throw new GatewayError(status, code, message, options)
  }
  // Whoever asked left while the upstream was being opened: the chat never learns of this answer.
  if (c.req.raw.signal.aborted) {
    await stream.cancel()
    return new Response(null, { status: 499 })
  }
  const expiresAt = begun.createdAt + config.streamDeadlineMs + config.streamRetentionMs
  const index = await chatIndex(c, chatId)
  const [result] = await Promise.all([
    stream.read(0, { ...readSettings(c), surface: 'ui' }),
    // Beside the read, not before it, and done before the response: once the client has it, its
    // chat leads to this answer (to resume it, or to stop it). A chat has one active answer: the
    // one a new message replaces stops, rather than run on unseen (usually it has ended: a no-op).
    index.activate(streamId, expiresAt).then((previous) => {
      if (previous && previous !== streamId) return streamObject(c, previous).cancel()
    }),
  ])
  return respond(result)
})

uiChat.get('/:chatId/stream', identifyCaller(), async (c) => {
  const streamId = await (await chatIndex(c, chatIdOf(c))).active()
  if (!streamId) return noActiveAnswer()
  // useChat sends no position and replays from the start; a client that keeps ids may resume after one.
  const lastEventId = c.req.header('Last-Event-ID')
  const result = await streamObject(c, streamId).read(
    lastEventId === undefined ? 0 : eventIdFrom(lastEventId, 'Last-Event-ID'),
    {
      ...readSettings(c),
      surface: 'ui',
      activeOnly: lastEventId === undefined,
    },
  )
  // An answer past its retention is gone: there is nothing to resume.
  return result.status === 404 ? noActiveAnswer() : respond(result)
})

uiChat.delete('/:chatId/stream', identifyCaller(), async (c) => {
  const streamId = await (await chatIndex(c, chatIdOf(c))).active()
  if (!streamId) {
    throw new GatewayError(404, 'chat_not_found', 'This chat has no answer to stop.', { retryable: false })
  }
  // Stopped now, or already over: either way nothing is generating for this chat any more.
  await streamObject(c, streamId).cancel()
  return c.body(null, 204)
})

uiChat.all('/', () => {
  throw methodNotAllowed('POST', 'Use POST for /api/ui/chat.')
})

uiChat.all('/:chatId/stream', () => {
  throw methodNotAllowed('GET, DELETE', 'Use GET to resume the chat’s answer, DELETE to stop it.')
})

/**
 * Whose chats these are: a key's or a token's principal, so one principal's chat ids name nothing
 * of another's. Callers without credentials share one namespace rather than one per IP address
 * (their principal for rate limits), because resuming is for exactly the moments an address
 * changes (a phone moving between networks): for them, as for `/api/streams` ids, an unguessable
 * chat id (`useChat`'s default) is what keeps a chat to its owner.
 */
async function chatOwner(c: Context<AppEnv>): Promise<string> {
  const principal = await principalOf(c)
  return principal.kind === 'anonymous' ? 'anonymous' : principal.id
}

async function chatIndex(c: Context<AppEnv>, chatId: string) {
  const namespace = c.env.CHAT_INDEX
  if (!namespace) {
    console.error(JSON.stringify({ level: 'error', msg: 'the CHAT_INDEX Durable Object binding is missing' }))
    throw new GatewayError(500, 'config_invalid', "The gateway's configuration is invalid; its log names the problem.")
  }
  return namespace.get(namespace.idFromName(chatIndexName(await chatOwner(c), chatId)))
}

/** The chat id in the path (the SDK URL-encodes it; the router decodes it). */
function chatIdOf(c: Context<AppEnv>): string {
  const chatId = c.req.param('chatId') ?? ''
  if (chatId.length > 256) {
    throw new GatewayError(400, 'invalid_request', 'The chat id is too long.', {
      retryable: false,
      issues: [{ path: 'chatId', message: 'must be at most 256 characters' }],
    })
  }
  return chatId
}

/** `/api/chat`'s schema and limits, with any issue reported at the UI request's own path. */
function validateAtUIPaths(chat: unknown, c: Context<AppEnv>, sourceIndex: number[]): ChatRequest {
  try {
    return validateChatRequest(chat, c.var.config)
  } catch (error) {
    if (!(error instanceof GatewayError) || !error.options.issues) throw error
    const { status, code, message, options } = error
    throw new GatewayError(status, code, message, { ...options, issues: atUIPaths(options.issues!, sourceIndex) })
  }
}

const readSettings = (c: Context<AppEnv>) => ({ heartbeatMs: c.var.config.heartbeatMs, retryMs: c.var.config.retryMs })

/** No active answer: what tells `useChat` there is nothing to resume. */
const noActiveAnswer = () => new Response(null, { status: 204 })

function respond(result: ReadResult): Response {
  switch (result.status) {
    case 200:
      return new Response(result.body, { headers: UI_MESSAGE_STREAM_HEADERS })
    case 204:
    case 404:
      return noActiveAnswer()
    case 400:
      throw pastTheEnd(result.lastId)
  }
}
