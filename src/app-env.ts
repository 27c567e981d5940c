import type { Env, GatewayConfig } from './config'

/** Hono's type parameters for this app: the Worker's bindings and what middleware sets. */
export interface AppEnv {
  Bindings: Env
  Variables: { config: GatewayConfig }
}
