import { Hono } from 'hono/tiny'
import type { AppEnv } from './app-env'
import { GatewayError } from './errors'
import { log } from './log'
import { cacheStatusHeader } from './middleware/cache-status-header'
import { corsAllowlist } from './middleware/cors-allowlist'
import { withConfig } from './middleware/load-config'
import { admin } from './routes/admin'
import { anthropicMessages } from './routes/anthropic'
import { chat } from './routes/chat'
import { models } from './routes/models'
import { openAI } from './routes/openai'
import { streams } from './routes/streams'
import { loggedPath } from './logged-path'
import { uiChat } from './routes/ui-chat'
import { usage } from './routes/usage'
import { writeUsageBatch } from './usage/consumer'
import { keepUsageLedger } from './usage/retention'

const app = new Hono<AppEnv>()

app.use(withConfig())
app.use('/api/*', corsAllowlist())
app.use('/v1/*', corsAllowlist())
app.use(cacheStatusHeader())
app.route('/api/chat', chat)
app.route('/api/models', models)
app.route('/api/streams', streams)
app.route('/api/ui/chat', uiChat)
app.route('/api/usage', usage)
app.route('/api/admin', admin)
// Before `/v1`, whose OpenAI app answers the rest of `/v1/*`.
app.route('/v1/messages', anthropicMessages)
app.route('/v1', openAI)

app.notFound(() => new GatewayError(404, 'not_found', 'No such route.', { retryable: false }).toResponse())

app.onError((error, c) => {
  if (error instanceof GatewayError) {
    log.info('request refused', { path: loggedPath(c.req.path), status: error.status, code: error.code })
    return error.toResponse()
  }
  // Unexpected: log the details for the operator, tell the client nothing about the internals.
  log.error('unhandled error', { path: loggedPath(c.req.path), error: String(error) })
  return new GatewayError(500, 'internal_error', 'The gateway failed to handle the request.').toResponse()
})

/**
 * The Worker: Hono's app answers HTTP; `queue` writes the usage ledger's records to D1 (the
 * consumer of `USAGE_QUEUE`); `scheduled` is the ledger's daily retention. `request` is Hono's
 * test entry point (`app.request(path, init, env)`), which the tests call.
 */
export default {
  fetch: app.fetch,
  request: app.request,
  queue: writeUsageBatch,
  scheduled: keepUsageLedger,
}

/** The Durable Objects the Worker hosts (bound in wrangler.toml). */
export { PrincipalLimits } from './access/principal-limits'
export { AnswerStream } from './streams/answer-stream'
export { ChatIndex } from './streams/chat-index'
export { UpstreamHealth } from './pipeline/upstream-health'
