import { optionalBinding, secret } from '../config/bindings'
import { keySecretsOf, type ModelConfig } from '../config/models'
import { GatewayError } from '../errors'
import { log } from '../log'
import { anthropicAdapter } from './anthropic'
import { demoAdapter } from './demo'
import { geminiAdapter } from './gemini'
import { openAIAdapter } from './openai'
import { workersAIAdapter, type AiBinding } from './workers-ai'
import type { ProviderAdapter } from './types'

/**
 * The adapter that serves a configured model, with its secret read from the Worker's bindings.
 * `keySecret` names the secret to use for this attempt (a key pool's choice, `pipeline/key-pool.ts`);
 * without it, the model's first key.
 */
export function adapterFor(name: string, model: ModelConfig, env: Env, keySecret?: string): ProviderAdapter {
  const secretName = keySecret ?? keySecretsOf(model)[0]
  switch (model.adapter) {
    case 'demo':
      return demoAdapter(model)
    case 'openai':
      return openAIAdapter(model, secretName ? apiKey(env, name, secretName) : undefined)
    case 'anthropic':
      return anthropicAdapter(model, apiKey(env, name, secretName))
    case 'gemini':
      return geminiAdapter(model, apiKey(env, name, secretName))
    case 'workers-ai':
      return workersAIAdapter(model, aiBinding(env, name, model.binding))
  }
}

/**
 * Whether a model's secret or binding is in place: false for one that could only answer 503
 * `model_unavailable` (an OpenAI model without its API key, say), so a picker can leave it out.
 */
export function isSetUp(model: ModelConfig, env: Env): boolean {
  switch (model.adapter) {
    case 'demo':
      return true
    case 'openai':
    case 'anthropic':
    case 'gemini': {
      // Set up when any key of its pool is there; an OpenAI-compatible model may need none.
      const keys = keySecretsOf(model)
      if (!keys.length) return model.adapter === 'openai'
      return keys.some((name) => secret(env, name) !== undefined)
    }
    case 'workers-ai':
      return typeof optionalBinding<Partial<AiBinding>>(env, model.binding)?.run === 'function'
  }
}

function aiBinding(env: Env, model: string, bindingName: string): AiBinding {
  const binding = optionalBinding<Partial<AiBinding>>(env, bindingName)
  if (typeof binding?.run === 'function') return binding as AiBinding
  throw unavailable(model, 'its AI binding', { binding: bindingName })
}

function apiKey(env: Env, model: string, secretName: string | undefined): string {
  // Config validation requires a key for these adapters; its absence here is a setup gap, reported as one.
  if (!secretName) throw unavailable(model, 'its API key', {})
  const value = secret(env, secretName)
  if (value) return value
  throw unavailable(model, 'its API key', { secret: secretName })
}

/** A model whose setup is incomplete: the operator's log names what is missing, the client learns which model. */
function unavailable(model: string, what: string, missing: Record<string, string>): GatewayError {
  log.error(`missing ${what.replace('its ', '')}`, { model, ...missing })
  return new GatewayError(503, 'model_unavailable', `Model "${model}" is not available: ${what} is not configured.`, {
    retryable: false,
  })
}
