import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import { admitAnswer } from '../../access/admission'
import type { AppEnv } from '../../app-env'
import { durableObjects } from '../../config/bindings'
import { GatewayError, methodNotAllowed } from '../../errors'
import { uiMessageStreamFormat } from '../../formats/ui-message-stream'
import { identifyCaller } from '../../middleware/identify-caller'
import { rateLimited } from '../../middleware/rate-limited'
import type { ChatRequest } from '../../request/chat-request'
import { validateChatRequest } from '../../request/validate'
import type { ReadResult } from '../../streams/answer-stream'
import { chatIndexName } from '../../streams/chat-index'
import { newStreamId } from '../../streams/stream-id'
import { limitBody } from '../../middleware/limit-body'
import { requireJson } from '../../middleware/require-json'
import { openAdmittedAnswer, streamAnswer, withAttempts } from '../shared/answer'
import { answerFromCache } from '../shared/cached-answer'
import { lastEventId, pastTheEnd } from '../shared/event-ids'
import { jsonBody } from '../shared/json-body'
import { answerStream, beginStoredAnswer, clientClosed, readOptions } from '../shared/stored-answer'
import { chatOwner, type ChatOwner } from './chat-owner'
import { atUIPaths, fromUIChatRequest } from './request'

/**
 * The Vercel AI SDK's `useChat` speaks to this surface unchanged (`/api/ui/chat`): its POST
 * starts an answer as a resumable stream and streams it as a UI message stream; `GET
 * /api/ui/chat/{chatId}/stream` (what `useChat({ resume: true })` calls on mount) replays and
 * continues the chat's active answer, or says 204 when there is none; `DELETE` on the same path
 * stops it, which `stop()` alone cannot do when the answer outlives the connection.
 *
 * Chats are found by (owner, chat id) in a `ChatIndex` object (`chat-owner.ts` says who owns
 * what); the stream id behind a chat is never shown to the client here, so the chat id and the
 * owner are the only way in. Resuming and stopping count against the caller's rate limit, as
 * starting does.
 */
export const uiChat = new Hono<AppEnv>()

/** What `useChat` reads, from stored answers too. */
const UI = { name: 'ui-message-stream' } as const

uiChat.post('/', identifyCaller(), rateLimited(), requireJson(), limitBody(), async (c) => {
  const { chatId, resumable, chat, sourceIndex } = fromUIChatRequest(await jsonBody(c), c.var.config)
  // Whose chat this is, checked before anything is admitted; a new anonymous owner gets a token.
  const owner = resumable ? await chatOwner(c, { issue: true }) : null
  // Refused before any object exists: bad requests, unknown or forbidden models, spent limits.
  const admission = await admitAnswer(c, validateAtUIPaths(chat, c, sourceIndex))
  // From the response cache, where the model has one: not resumable by the chat's id (the chat
  // index never learns of it), but asking again joins the answer, or reads it whole, at once.
  const cached = await answerFromCache(c, admission, UI, `msg_${newStreamId()}`)
  if (cached) {
    const response = new Response(cached, { headers: uiMessageStreamFormat.headers })
    if (owner?.setCookie) response.headers.append('Set-Cookie', owner.setCookie)
    return response
  }
  if (!resumable) {
    // Not kept: straight from the pipeline, as /api/chat; the client leaving cancels the model.
    const answer = await openAdmittedAnswer(c, admission)
    return streamAnswer(c, answer, admission.lease, uiMessageStreamFormat, {})
  }
  // The assistant message's id is what the `start` chunk carries; the stream id stays here.
  const answer = await beginStoredAnswer(c, 'ui-chat', admission, { startId: `msg_${newStreamId()}`, owner: owner!.id })
  // Whoever asked left while the upstream was being opened: the chat never learns of this answer.
  if (!answer) return clientClosed()
  const { streamId, stream, expiresAt } = answer
  const index = chatIndex(c, owner!, chatId)
  const [result] = await Promise.all([
    stream.read(0, readOptions(c, UI, { owner: owner!.id })),
    // Beside the read, not before it, and done before the response: once the client has it, its
    // chat leads to this answer (to resume it, or to stop it). A chat has one active answer: the
    // one a new message replaces stops, rather than run on unseen (usually it has ended: a no-op).
    index.activate(streamId, expiresAt).then((previous) => {
      if (previous && previous !== streamId) return answerStream(c, 'ui-chat', previous).cancel(owner!.id)
    }),
  ])
  const response = withAttempts(respond(result), answer.attempts)
  if (owner?.setCookie) response.headers.append('Set-Cookie', owner.setCookie)
  return response
})

uiChat.get('/:chatId/stream', identifyCaller(), rateLimited(), async (c) => {
  const owner = await chatOwner(c, { issue: false })
  const streamId = owner && (await chatIndex(c, owner, chatIdOf(c)).active())
  if (!streamId) return noActiveAnswer()
  // useChat sends no position and replays from the start; a client that keeps ids may resume after one.
  const after = lastEventId(c, { query: false })
  const result = await answerStream(c, 'ui-chat', streamId).read(
    after ?? 0,
    readOptions(c, UI, { unlessReadToEnd: after === undefined, owner: owner.id }),
  )
  // An answer past its retention is gone: there is nothing to resume.
  return result.status === 404 ? noActiveAnswer() : respond(result)
})

uiChat.delete('/:chatId/stream', identifyCaller(), rateLimited(), async (c) => {
  const owner = await chatOwner(c, { issue: false })
  const streamId = owner && (await chatIndex(c, owner, chatIdOf(c)).active())
  if (!streamId) {
    throw new GatewayError(404, 'chat_not_found', 'This chat has no answer to stop.', { retryable: false })
  }
  // Stopped now, or already over: either way nothing is generating for this chat any more.
  await answerStream(c, 'ui-chat', streamId).cancel(owner.id)
  return c.body(null, 204)
})

uiChat.all('/', () => {
  throw methodNotAllowed('POST', 'Use POST for /api/ui/chat.')
})

uiChat.all('/:chatId/stream', () => {
  throw methodNotAllowed('GET, DELETE', 'Use GET to resume the chat’s answer, DELETE to stop it.')
})

/** A chat's index object: one per (owner, chat id), so one owner's chat id names nothing of another's. */
function chatIndex(c: Context<AppEnv>, owner: ChatOwner, chatId: string) {
  const namespace = durableObjects(c.env, 'CHAT_INDEX')
  return namespace.get(namespace.idFromName(chatIndexName(owner.id, chatId)))
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

/** No active answer: what tells `useChat` there is nothing to resume. */
const noActiveAnswer = () => new Response(null, { status: 204 })

function respond(result: ReadResult): Response {
  switch (result.status) {
    case 200:
      return new Response(result.body, { headers: uiMessageStreamFormat.headers })
    case 204:
    case 404:
      return noActiveAnswer()
    case 400:
      throw pastTheEnd(result.lastId)
  }
}
