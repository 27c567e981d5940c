import { Hono } from 'hono/tiny'
import type { AppEnv } from '../app-env'

/** `GET /api/models`: the public model names, for pickers. Nothing about where they run. */
export const models = new Hono<AppEnv>()

models.get('/', (c) => {
  const { config } = c.var
  return c.json({ default: config.defaultModel, models: Object.keys(config.models) })
})
