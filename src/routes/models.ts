import { Hono } from 'hono/tiny'
import { usableModels } from '../access/principal'
import type { AppEnv } from '../app-env'
import { identifyCaller } from '../middleware/identify-caller'
import { isSetUp } from '../providers'

/**
 * `GET /api/models`: the public names of the models this caller may use, for pickers. Nothing
 * about where they run. `default` is the default model if the caller may use it, else the first
 * they may (null when there is none). `locked` names the other configured models: a picker shows
 * them as needing a key, so a model added without `ANONYMOUS_MODELS` does not silently vanish.
 * `unavailable` names the configured models (of either list) whose secret or binding is missing:
 * they could only fail, so a picker leaves them out. `max_message_chars` is the longest message
 * the gateway takes, so a composer can say so before sending.
 */
export const models = new Hono<AppEnv>()

models.get('/', identifyCaller(), (c) => {
  const { config } = c.var
  const usable = usableModels(config, c.var.principal!)
  const fallback = usable.includes(config.defaultModel) ? config.defaultModel : (usable[0] ?? null)
  const locked = Object.keys(config.models).filter((name) => !usable.includes(name))
  const unavailable = Object.entries(config.models)
    .filter(([, model]) => !isSetUp(model, c.env))
    .map(([name]) => name)
  return c.json({ default: fallback, models: usable, locked, unavailable, max_message_chars: config.maxMessageChars })
})
