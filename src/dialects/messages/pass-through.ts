import type { Context } from 'hono'
import type { Admission } from '../../access/admission'
import type { AppEnv } from '../../app-env'
import type { GatewayConfig } from '../../config/load'
import { isObject } from '../../request/json-shape'
import type { NativeRequest } from '../../request/native-request'

/**
 * Issue 25's pass-through for `/v1/messages`: a request to a model the `anthropic` adapter serves
 * goes to Anthropic as the caller sent it (`../../providers/anthropic/pass-through.ts`), so
 * nothing the gateway's translation does not know is lost (`cache_control`, `context_management`,
 * documents, server tools). The translation still runs, leniently, as the measure of the answer;
 * see docs/anthropic-messages.md, “Pass-through to Anthropic models”.
 */

/** Whether the model a Messages body names (else the default) is served by the `anthropic` adapter. */
export function passesThrough(config: GatewayConfig, body: unknown): boolean {
  const model = isObject(body) && typeof body.model === 'string' ? body.model : config.defaultModel
  return Object.hasOwn(config.models, model) && config.models[model]!.adapter === 'anthropic'
}

/** Headers that belong with a Messages body: they switch Anthropic's features on for it. */
const NATIVE_HEADERS = ['anthropic-beta', 'anthropic-version'] as const

/** The caller's body and its Anthropic headers, as they came, for the adapter. */
export function nativeMessages(c: Context<AppEnv>, body: unknown): NativeRequest {
  const headers: Record<string, string> = {}
  for (const name of NATIVE_HEADERS) {
    const value = c.req.header(name)
    if (value !== undefined) headers[name] = value
  }
  return { dialect: 'messages', body: body as Record<string, unknown>, headers }
}

/**
 * The fallbacks that can still answer a request whose translation left parts out (a document, a
 * server tool): only models of the same family, which get the caller's body too. A model of
 * another family gets the translation, and would answer blind to what it left out; it is not
 * tried, as the translation would have refused the request for it. With nothing left out, every
 * fallback stays: a model of another family answers through the translation, as before.
 */
export function fallbacksThatCarry(config: GatewayConfig, admission: Admission, leftOut: readonly unknown[]): string[] {
  if (!leftOut.length) return admission.fallbacks
  return admission.fallbacks.filter((model) => config.models[model]?.adapter === 'anthropic')
}
