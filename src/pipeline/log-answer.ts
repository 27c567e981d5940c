import type { AnswerSummary } from '../events/answer-summary'
import { log } from '../log'

/**
 * One structured line per answer: what happened and how long it took, never what was said.
 * `usage` is what the upstream reported, if anything; `partial` marks counts of an answer that
 * was cancelled or failed, so accounting can tell them from a finished answer's. `principal` is
 * who asked: a key's name, a token's `sub`, or `anonymous`; never a credential.
 */
export function logAnswer(
  path: string,
  model: string,
  upstream: string,
  summary: AnswerSummary,
  principal?: string,
): void {
  const partial = summary.outcome !== 'done'
  log.info('answer ended', { path, status: 200, principal, model, upstream, partial, ...summary })
}
