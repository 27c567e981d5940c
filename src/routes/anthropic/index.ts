import { Hono } from 'hono/tiny'
import type { MiddlewareHandler } from 'hono'
import { admitAnswer } from '../../access/admission'
import type { AppEnv } from '../../app-env'
import { GatewayError, methodNotAllowed } from '../../errors'
import { anthropicMessagesFormat } from '../../dialects/messages/format'
import { identifyCaller } from '../../middleware/identify-caller'
import { limitBody } from '../../middleware/limit-body'
import { rateLimited } from '../../middleware/rate-limited'
import { requireJson } from '../../middleware/require-json'
import { openAdmittedAnswer, withAttempts } from '../shared/answer'
import { streamFromFirstHeartbeat } from '../shared/first-heartbeat'
import { droppedCacheMarks } from '../../dialects/cache-marks'
import { noteIgnored, reportIgnored } from '../shared/ignored-fields'
import { answerFromCache } from '../shared/cached-answer'
import { storedAsOpened } from '../shared/stored-events-decoder'
import { jsonBody } from '../shared/json-body'
import { wholeAnswer } from '../shared/whole-answer'
import { countTokens } from './count-tokens'
import { anthropicError } from '../../dialects/messages/errors'
import { message } from './message'
import { fromMessagesRequest } from '../../dialects/messages/request'
import { fallbacksThatCarry, nativeMessages, passesThrough } from '../../dialects/messages/pass-through'
import { inCallerTerms, validateMessagesRequest } from '../../dialects/messages/validate'

/**
 * Anthropic's Messages API (`/v1/messages`): the Anthropic SDKs, `@ai-sdk/anthropic` and tools
 * that take `ANTHROPIC_BASE_URL` (Claude Code) work unchanged, for every configured model,
 * whichever provider serves it. `x-api-key` authenticates as `Authorization: Bearer` does. A
 * model the `anthropic` adapter serves gets the caller's body, `anthropic-version` and
 * `anthropic-beta` as they came (`../../dialects/messages/pass-through.ts`); for any other, the request is translated,
 * the two headers change nothing, and fields the gateway drops are named in `X-Gateway-Ignored`
 * (see `../../dialects/fields.ts`).
 */
export const anthropicMessages = new Hono<AppEnv>()

anthropicMessages.use(requestId(), reportIgnored())

anthropicMessages.post('/', identifyCaller(), rateLimited(), requireJson(), limitBody(), async (c) => {
  const { config } = c.var
  const body = await jsonBody(c)
  // An Anthropic model gets the caller's own body; the translation is only the answer's measure.
  const passThrough = passesThrough(config, body)
  const translated = fromMessagesRequest(body, config, { passThrough })
  // What the translation dropped reached Anthropic all the same when the body passes through.
  if (!passThrough) noteIgnored(c, translated.ignored)
  const request = validateMessagesRequest(translated, config)
  if (!passThrough) noteIgnored(c, droppedCacheMarks(config, request))
  const admission = await admitAnswer(c, passThrough ? { ...request, native: nativeMessages(c, body) } : request)
  admission.fallbacks = fallbacksThatCarry(config, admission, translated.leftOut)
  // An adapter's refusal names a path in the translated request: name the caller's instead.
  const inTheirTerms = (error: unknown) => {
    throw inCallerTerms(error, translated.origins)
  }
  const format = translated.stream ? { name: 'anthropic-messages' as const } : { name: 'gateway' as const }
  const cached = await answerFromCache(c, admission, format, `chat_${crypto.randomUUID()}`).catch(inTheirTerms)
  if (cached && translated.stream) return new Response(cached, { headers: anthropicMessagesFormat.headers })
  if (cached) {
    const fromCache = storedAsOpened(cached, admission.request.model)
    return wholeAnswer(
      c,
      (left) => message(c, fromCache, admission.lease, left, { endedElsewhere: true }),
      (error) => anthropicError(error, c),
    )
  }
  if (translated.stream) {
    const inTerms = (error: unknown) => inCallerTerms(error, translated.origins)
    return streamFromFirstHeartbeat(c, admission, anthropicMessagesFormat, {}, { inTerms })
  }
  const opened = await openAdmittedAnswer(c, admission).catch(inTheirTerms)
  const whole = await wholeAnswer(
    c,
    (left) => message(c, opened, admission.lease, left),
    (error) => anthropicError(error, c),
  )
  return withAttempts(whole, opened.attempts)
})

anthropicMessages.post('/count_tokens', identifyCaller(), rateLimited(), requireJson(), limitBody(), countTokens)

anthropicMessages.all('/', () => {
  throw methodNotAllowed('POST', 'Use POST for /v1/messages.')
})

// Anything else under /v1/messages is this surface's 404, in its shape, not the OpenAI one's.
anthropicMessages.all('*', () => {
  throw new GatewayError(404, 'not_found', 'No such route.', { retryable: false })
})

anthropicMessages.onError(anthropicError)

/** A `request-id` on every response, as Anthropic's API sends, for a client to quote in a report. */
function requestId(): MiddlewareHandler<AppEnv> {
  return async function requestId(c, next) {
    const id = `req_${crypto.randomUUID().replaceAll('-', '')}`
    await next()
    c.res.headers.set('request-id', id)
  }
}
