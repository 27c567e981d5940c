import { Hono } from 'hono/tiny'
import { admitAnswer } from '../access/admission'
import type { AppEnv } from '../app-env'
import { methodNotAllowed } from '../errors'
import { gatewayFormat } from '../formats/gateway'
import { identifyCaller } from '../middleware/identify-caller'
import { limitBody } from '../middleware/limit-body'
import { rateLimited } from '../middleware/rate-limited'
import { requireJson } from '../middleware/require-json'
import { validateChatRequest } from '../request/validate'
import { answerFromCache } from './shared/cached-answer'
import { streamFromFirstHeartbeat } from './shared/first-heartbeat'
import { jsonBody } from './shared/json-body'

/**
 * `POST /api/chat`: check the caller, validate, admit (model permission and limits), open the
 * upstream, stream its answer as our events (begun by a heartbeat if the first token is slow). The answer lives as long as the connection, unless
 * the model has a response cache (docs/cache.md): then it is a stored answer, read from the cache.
 */
export const chat = new Hono<AppEnv>()

chat.post('/', identifyCaller(), rateLimited(), requireJson(), limitBody(), async (c) => {
  const admission = await admitAnswer(c, validateChatRequest(await jsonBody(c), c.var.config))
  const cached = await answerFromCache(c, admission, { name: 'gateway' }, `chat_${crypto.randomUUID()}`)
  if (cached) return new Response(cached, { headers: gatewayFormat.headers })
  return streamFromFirstHeartbeat(c, admission, gatewayFormat, {})
})

chat.all('/', () => {
  throw methodNotAllowed('POST', 'Use POST for /api/chat.')
})
