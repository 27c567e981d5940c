import type { Context } from 'hono'
import type { AppEnv } from '../../app-env'

/**
 * Lets `work` finish after the response has gone (`waitUntil`): bookkeeping the client need not
 * wait for. A Worker's `waitUntil` ends 30 s after its client leaves, so this is only for work
 * that takes far less; anything that must outlive the client belongs in a Durable Object.
 */
export function inBackground(c: Context<AppEnv>, work: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(work)
  } catch {
    // No ExecutionContext (a test calling the app directly): the promise runs all the same.
  }
}
