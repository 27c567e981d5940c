// Which chat and responses requests pass through to OpenAI (was src/routes/shared/pass-through.ts).
import type { GatewayConfig } from '../config/load'
import type { Dialect } from '../events/dialect'

/**
 * Whether a request in `dialect` to `model` (the default when it names none) will have its own
 * body sent on (issue 25): an `openai` model whose `api` is the dialect. Such a request's
 * translation is lenient (`docs/configuration.md`, "Pass-through"): what it cannot express (a
 * hosted tool, a namespace of tools, an item type it does not know) is left out of the gateway's
 * own request, which only measures the answer and serves a fallback of another family, instead of
 * refused; the upstream gets it all. Nothing is named in `X-Gateway-Ignored`, since nothing is.
 */
export function passesThrough(config: GatewayConfig, model: unknown, dialect: Dialect): boolean {
  const name = typeof model === 'string' ? model : config.defaultModel
  const modelConfig = Object.hasOwn(config.models, name) ? config.models[name] : undefined
  return modelConfig?.adapter === 'openai' && modelConfig.api === dialect
}
