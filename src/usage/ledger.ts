import { optionalBinding } from '../config/bindings'
import type { GatewayConfig } from '../config/load'
import { log } from '../log'
import { logAnswer } from '../pipeline/log-answer'
import { analyticsDataPoint } from './analytics'
import type { AnswerTokens } from './cost'
import { usageRecord, type EndedAnswer, type UsageRecord } from './record'

/**
 * An ended answer's log line now, and its record on the way to the ledger: the ledger's half of
 * `endAnswer` (./end-answer.ts), which every surface calls. The send happens after the last byte
 * has gone to the client, so the ledger never slows an answer, and it never throws, so it never
 * fails one. Without a `USAGE_QUEUE` binding the log line is all there is.
 */
export function recordAnswer(
  env: Env,
  config: GatewayConfig,
  answer: EndedAnswer,
  tokens?: AnswerTokens,
): Promise<void> {
  const record = usageRecord(config, answer, tokens)
  logAnswer(record, config.models[record.upstream]?.adapter, {
    keySecret: answer.keySecret,
    ignoredFields: answer.ignoredFields,
    continued: answer.continued,
  })
  return sendRecord(env, record)
}

async function sendRecord(env: Env, record: UsageRecord): Promise<void> {
  const analytics = optionalBinding<AnalyticsEngineDataset>(env, 'USAGE_ANALYTICS')
  try {
    // Fire and forget by design: the runtime sends the point after the invocation, and it is never awaited.
    analytics?.writeDataPoint(analyticsDataPoint(record))
  } catch (error) {
    log.warn('usage data point not written', { error: String(error) })
  }
  const queue = optionalBinding<Queue<UsageRecord>>(env, 'USAGE_QUEUE')
  if (!queue) return
  try {
    await queue.send(record, { contentType: 'json' })
  } catch (error) {
    // The log line above still has every figure: an operator can rebuild the record from it.
    log.error('usage record not sent to the ledger', { id: record.id, error: String(error) })
  }
}
