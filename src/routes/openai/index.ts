import { Hono } from 'hono/tiny'
import { admitAnswer } from '../../access/admission'
import { usableModels } from '../../access/principal'
import type { AppEnv } from '../../app-env'
import { openAIChatFormat } from '../../formats/openai-chat'
import { identifyCaller } from '../../middleware/identify-caller'
import { limitBody } from '../../middleware/limit-body'
import { requireJson } from '../../middleware/require-json'
import { validateChatRequest } from '../../request/validate'
import { openAdmittedAnswer, streamAnswer } from '../shared/answer'
import { jsonBody } from '../shared/json-body'
import { completion } from './completion'
import { openAIError } from './errors'
import { fromOpenAIRequest } from './request'

/**
 * An OpenAI-compatible front door (`/v1`): the official SDKs, given this as `baseURL`, work
 * unchanged for every configured model, whichever provider serves it.
 */
export const openAI = new Hono<AppEnv>()

/** The models this caller may use, as `GET /api/models` lists them. */
openAI.get('/models', identifyCaller(), (c) =>
  c.json({
    object: 'list',
    data: usableModels(c.var.config, c.var.principal!).map((id) => ({
      id,
      object: 'model',
      created: 0,
      owned_by: 'gateway',
    })),
  }),
)

openAI.post('/chat/completions', identifyCaller(), requireJson(), limitBody(), async (c) => {
  const { chat, stream, includeUsage } = fromOpenAIRequest(await jsonBody(c))
  const admission = await admitAnswer(c, validateChatRequest(chat, c.var.config))
  const { lease } = admission
  const opened = await openAdmittedAnswer(c, admission)
  if (stream) return streamAnswer(c, opened, lease, openAIChatFormat, { includeUsage })
  return completion(c, opened, lease)
})

openAI.onError(openAIError)
