import type { Principal } from './access/principal'
import type { GatewayConfig } from './config/load'
import type { CacheStatus } from './events/answer-summary'

/** Hono's type parameters for this app: the Worker's bindings and what middleware sets. */
export interface AppEnv {
  Bindings: Env
  /**
   * `principal`: who is calling, once checked (`principalOf` in src/access/authenticate.ts).
   * `rateCounted`: this request has been counted against the caller's rate limit (`countRequest`
   * in src/access/rate-limit.ts), so nothing counts it twice.
   * `ignoredFields`: request fields a translation dropped (src/routes/shared/ignored-fields.ts).
   * `cacheStatus`: what the response cache did for this answer, where the model has one
   * (src/routes/shared/cached-answer.ts); sent as `X-Gateway-Cache` and kept in the ledger.
   */
  Variables: {
    config: GatewayConfig
    principal?: Principal
    rateCounted?: true
    ignoredFields?: string[]
    cacheStatus?: CacheStatus
  }
}
