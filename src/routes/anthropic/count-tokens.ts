import type { Context } from 'hono'
import { countRequest } from '../../access/rate-limit'
import type { AppEnv } from '../../app-env'
import { noteIgnored } from '../shared/ignored-fields'
import { inputTokensOf } from '../shared/input-tokens'
import { jsonBody } from '../shared/json-body'
import { nativeMessages, passesThrough } from '../../dialects/messages/pass-through'
import { fromMessagesRequest } from '../../dialects/messages/request'
import { validateMessagesRequest } from '../../dialects/messages/validate'

/**
 * `POST /v1/messages/count_tokens`: the request's input tokens, `{ "input_tokens": n }`. For an
 * Anthropic model, Anthropic counts them (its own `count_tokens`); for any other, the gateway
 * estimates them as it does for budgets (about four characters a token), and says so in the
 * `x-token-count` header (`provider` or `estimate`). Nothing is generated, so nothing is charged.
 */
export async function countTokens(c: Context<AppEnv>): Promise<Response> {
  const { config } = c.var
  await countRequest(c) // counted by the route's `rateLimited()` already: a backstop, never twice
  const body = await jsonBody(c)
  // An Anthropic model counts the caller's own body, as it would answer it (`../../dialects/messages/pass-through.ts`).
  const passThrough = passesThrough(config, body)
  const translated = fromMessagesRequest(body, config, { maxTokens: false, passThrough })
  if (!passThrough) noteIgnored(c, translated.ignored)
  const request = validateMessagesRequest(translated, config)
  const { tokens, countedBy } = await inputTokensOf(
    c,
    passThrough ? { ...request, native: nativeMessages(c, body) } : request,
  )
  return c.json({ input_tokens: tokens }, 200, { 'x-token-count': countedBy })
}
