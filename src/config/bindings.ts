import { configInvalid } from '../errors'
import { log } from '../log'

/**
 * The few ways the gateway reads its bindings besides their generated types (`Env`, from
 * `wrangler types`): by a name that comes from configuration, or one the operator may remove.
 */

/** Bindings read by a name the configuration chose (a model's `api_key_secret`, its `binding`). */
const byName = (env: Env) => env as unknown as Record<string, unknown>

/** A secret by the name the configuration gives it; undefined when it is not set (or not a string). */
export function secret(env: Env, name: string): string | undefined {
  const value = byName(env)[name]
  return typeof value === 'string' && value !== '' ? value : undefined
}

/**
 * A binding that may be absent: one the configuration names (a Workers AI binding), or one an
 * operator removes from wrangler.toml to switch its feature off (a rate limit). Typed by the
 * caller, since the generated `Env` only knows what wrangler.toml has today.
 */
export function optionalBinding<T>(env: Env, name: string): T | undefined {
  return byName(env)[name] as T | undefined
}

/**
 * A Durable Object namespace the gateway cannot work without. Its absence is a broken
 * deployment: logged for the operator, a `config_invalid` 500 for the client.
 */
export function durableObjects<K extends 'ANSWER_STREAMS' | 'PRINCIPAL_LIMITS' | 'CHAT_INDEX'>(
  env: Env,
  name: K,
): Env[K] {
  const namespace = optionalBinding<Env[K]>(env, name)
  if (!namespace) {
    log.error(`the ${name} Durable Object binding is missing`)
    throw configInvalid()
  }
  return namespace
}
