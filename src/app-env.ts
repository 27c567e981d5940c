import type { Principal } from './access/principal'
import type { GatewayConfig } from './config/load'

/** Hono's type parameters for this app: the Worker's bindings and what middleware sets. */
export interface AppEnv {
  Bindings: Env
  /**
   * `principal`: who is calling, once checked (`principalOf` in src/access/authenticate.ts).
   * `rateCounted`: this request has been counted against the caller's rate limit (`countRequest`
   * in src/access/rate-limit.ts), so nothing counts it twice.
   * `ignoredFields`: request fields a translation dropped (src/routes/shared/ignored-fields.ts).
   */
  Variables: { config: GatewayConfig; principal?: Principal; rateCounted?: true; ignoredFields?: string[] }
}
