import { Hono } from 'hono/tiny'
import { admitAnswer } from '../../access/admission'
import { usableModels } from '../../access/principal'
import type { AppEnv } from '../../app-env'
import { GatewayError } from '../../errors'
import { openAIChatFormat } from '../../dialects/chat/format'
import { identifyCaller } from '../../middleware/identify-caller'
import { limitBody } from '../../middleware/limit-body'
import { rateLimited } from '../../middleware/rate-limited'
import { requireJson } from '../../middleware/require-json'
import { isObject } from '../../request/json-shape'
import { validateChatRequest } from '../../request/validate'
import { openAdmittedAnswer, withAttempts } from '../shared/answer'
import { streamFromFirstHeartbeat } from '../shared/first-heartbeat'
import { droppedCacheMarks } from '../../dialects/cache-marks'
import { noteIgnored, reportIgnored } from '../shared/ignored-fields'
import { passesThrough } from '../../dialects/openai-pass-through'
import { answerFromCache } from '../shared/cached-answer'
import { storedAsOpened } from '../shared/stored-events-decoder'
import { jsonBody } from '../shared/json-body'
import { wholeAnswer } from '../shared/whole-answer'
import { completion } from './completion'
import { openAIError } from '../../dialects/openai-errors'
import { fromOpenAIRequest } from '../../dialects/chat/request'
import { responses } from './responses'
import { idleToolFields } from '../../request/idle-tool-fields'

/**
 * An OpenAI-compatible front door (`/v1`): the official SDKs, given this as `baseURL`, work
 * unchanged for every configured model, whichever provider serves it.
 */
export const openAI = new Hono<AppEnv>()

openAI.use(reportIgnored())

const modelObject = (id: string) => ({ id, object: 'model', created: 0, owned_by: 'gateway' })

/** The models this caller may use, as `GET /api/models` lists them. */
openAI.get('/models', identifyCaller(), (c) =>
  c.json({ object: 'list', data: usableModels(c.var.config, c.var.principal!).map(modelObject) }),
)

/** One of them; any other name (unknown, or not this caller's) is a 404, as OpenAI answers. */
openAI.get('/models/:id{.+}', identifyCaller(), (c) => {
  const id = c.req.param('id')
  if (!usableModels(c.var.config, c.var.principal!).includes(id)) {
    throw new GatewayError(
      404,
      'model_not_found',
      `The model '${id}' does not exist or you do not have access to it.`,
      {
        retryable: false,
        issues: [{ path: 'model', message: 'is not a model you may use' }],
      },
    )
  }
  return c.json(modelObject(id))
})

openAI.post('/chat/completions', identifyCaller(), rateLimited(), requireJson(), limitBody(), async (c) => {
  const body = await jsonBody(c)
  const passed = passesThrough(c.var.config, isObject(body) ? body.model : undefined, 'chat')
  const { chat, stream, includeUsage, ignored } = fromOpenAIRequest(body, c.var.config, { lenient: passed })
  // Passed through, only what the adapter leaves out of the caller's body is dropped.
  noteIgnored(c, passed && isObject(body) ? idleToolFields(body) : ignored)
  const request = validateChatRequest(chat, c.var.config)
  if (!passed) noteIgnored(c, droppedCacheMarks(c.var.config, request))
  const native = passed ? { native: { dialect: 'chat' as const, body: body as Record<string, unknown> } } : {}
  const admission = await admitAnswer(c, { ...request, ...native })
  const { lease } = admission
  const startId = `chat_${crypto.randomUUID()}`
  const format = stream ? { name: 'openai-chat' as const, options: { includeUsage } } : { name: 'gateway' as const }
  const cached = await answerFromCache(c, admission, format, startId)
  if (cached && stream) return new Response(cached, { headers: openAIChatFormat.headers })
  if (cached) {
    const fromCache = storedAsOpened(cached, admission.request.model)
    return wholeAnswer(
      c,
      (left) => completion(c, fromCache, lease, left, { endedElsewhere: true }),
      (error) => openAIError(error, c),
    )
  }
  if (stream) return streamFromFirstHeartbeat(c, admission, openAIChatFormat, { includeUsage }, { startId })
  const opened = await openAdmittedAnswer(c, admission)
  const whole = await wholeAnswer(
    c,
    (left) => completion(c, opened, lease, left),
    (error) => openAIError(error, c),
  )
  return withAttempts(whole, opened.attempts)
})

openAI.route('/responses', responses)

/**
 * Anything else under `/v1` is a 404 in OpenAI's shape, naming what there is. Inside this app,
 * after its routes, so it never answers for a path another app mounts beside `/v1`.
 */
const ENDPOINTS =
  'POST /v1/chat/completions, POST /v1/responses, GET|DELETE /v1/responses/{id}, POST /v1/responses/{id}/cancel, GET /v1/responses/{id}/input_items, POST /v1/responses/input_tokens, GET /v1/models, GET /v1/models/{id}, POST /v1/messages, POST /v1/messages/count_tokens'
openAI.all('*', (c) => {
  throw new GatewayError(
    404,
    'unknown_url',
    `Unrecognized request URL (${c.req.method} ${c.req.path}). This gateway serves ${ENDPOINTS}.`,
    {
      retryable: false,
    },
  )
})

openAI.onError(openAIError)
