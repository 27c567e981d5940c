import type { AccessPolicy } from '../config/access'
import type { GatewayConfig } from '../config/load'

/** Who is calling, once their credentials (or lack of them) have been checked. */
export interface Principal {
  /**
   * Stable and unique: `key:<name>`, `jwt:<sub>` or `anonymous:<client IP>`. It keys the rate
   * limit and names the object that keeps this principal's budget and open streams.
   */
  id: string
  kind: 'key' | 'jwt' | 'anonymous'
  /** What the logs show: the key's name, the token's `sub`, or `anonymous`. Never a credential or an IP. */
  name: string
  policy: AccessPolicy
  /** May read everyone's usage: an API key with `admin = true`, or a JWT subject in `ADMIN_SUBJECTS`. */
  admin?: boolean
}

/** Whether a principal may use a model (by the name the request gave, not a fallback's). */
export function mayUse(principal: Principal, model: string): boolean {
  const { models } = principal.policy
  return models === '*' || models.includes(model)
}

/** The models a principal may use, in configuration order: what pickers list and refusals name. */
export function usableModels(config: GatewayConfig, principal: Principal): string[] {
  return Object.keys(config.models).filter((name) => mayUse(principal, name))
}
