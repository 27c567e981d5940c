import { log } from '../log'
import type { UsageRecord } from '../usage/record'

/** `gen_ai.provider.name` for each adapter: OpenTelemetry's well-known value where it has one. */
const PROVIDER_NAMES: Record<string, string> = {
  openai: 'openai',
  anthropic: 'anthropic',
  gemini: 'gcp.gemini',
  'workers-ai': 'cloudflare.workers_ai',
  demo: 'demo',
}

/**
 * One structured line per answer: what happened, what it used and cost, how long it took; never
 * what was said. Fields take OpenTelemetry's GenAI semantic-convention names where one exists
 * (`gen_ai.*`, `error.type`), so a Logpush or OTLP pipeline reads them without a mapping; the
 * rest are the gateway's own. `partial` marks counts of an answer that was cancelled or failed,
 * `estimated` counts the gateway made because the upstream reported none. `principal` is who
 * asked: a key's name, a token's `sub`, or `anonymous`; never a credential. `streamHash` is the
 * stored answer's tag (`idTag`), never its id: the id is the capability to read and stop it.
 * `attempts` is how many upstream requests the answer took (retries and fallbacks included),
 * `gen_ai.response.model` the model that served it, and `key` the name of the secret whose key
 * served it (a pool's member; never the key itself). `ignoredFields` names the request's fields
 * the gateway dropped, as the `X-Gateway-Ignored` header did. `continued` counts the times the
 * answer was continued after its upstream died mid-stream (`continue_on_failure`), and
 * `continuedBy` names the model and key of each continuation; their requests are in `attempts`.
 */
export function logAnswer(
  record: UsageRecord,
  adapter: string | undefined,
  {
    keySecret,
    ignoredFields,
    continued,
  }: {
    keySecret?: string
    ignoredFields?: string[]
    continued?: ReadonlyArray<{ upstream: string; keySecret?: string }> | undefined
  } = {},
): void {
  log.info('answer ended', {
    path: record.route,
    status: record.status,
    principal: record.principal,
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': PROVIDER_NAMES[adapter ?? ''] ?? adapter,
    'gen_ai.request.model': record.model,
    'gen_ai.response.model': record.upstream,
    attempts: record.attempts,
    key: keySecret,
    continued: continued?.length || undefined,
    continuedBy: continued?.length
      ? continued.map(({ upstream, keySecret }) => ({ model: upstream, key: keySecret }))
      : undefined,
    'gen_ai.response.finish_reasons': record.finishReason ? [record.finishReason] : undefined,
    'gen_ai.usage.input_tokens': record.promptTokens,
    'gen_ai.usage.output_tokens': record.completionTokens,
    'gen_ai.usage.reasoning.output_tokens': record.reasoningTokens || undefined,
    'error.type': record.errorCode ?? undefined,
    partial: record.outcome !== 'done',
    outcome: record.outcome,
    estimated: record.estimated,
    costUsd: record.costUsd,
    firstTextMs: record.ttftMs ?? undefined,
    durationMs: record.durationMs,
    streamHash: record.streamId ?? undefined,
    ignoredFields: ignoredFields?.length ? ignoredFields : undefined,
  })
}
