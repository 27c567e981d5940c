import { describe, expect, it } from 'vitest'
import app from '../../src/index'
import { eventsOf } from '../helpers/sse'
import { asEnv } from '../helpers/env'

const unreachable = { adapter: 'openai', base_url: 'http://127.0.0.1:1/v1', upstream_model: 'm' }

function env(models: Record<string, object>): Env {
  return asEnv({
    DEFAULT_MODEL: Object.keys(models)[0],
    MODELS: models,
    ANONYMOUS_MODELS: Object.keys(models).join(','),
  })
}

const post = (environment: Env) =>
  app.request(
    '/api/chat',
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
    },
    environment,
  )

describe('fallbacks', () => {
  it('moves on to the next model when the first cannot be reached, and says which answered', async () => {
    const response = await post(
      env({
        primary: { ...unreachable, fallbacks: ['also-down', 'backup'] },
        'also-down': unreachable,
        backup: { adapter: 'demo', token_delay_ms: 0 },
      }),
    )
    expect(response.status).toBe(200)
    const events = eventsOf(await response.text())
    expect(events[0]).toMatchObject({ event: 'start', data: { model: 'primary', upstream: 'backup' } })
    expect(events.at(-1)).toMatchObject({ event: 'done' })
  })

  it('reports the last failure when every model fails', async () => {
    const response = await post(env({ primary: { ...unreachable, fallbacks: ['other'] }, other: unreachable }))
    expect(response.status).toBe(502)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('upstream_unavailable')
  })

  it('does not fall back from a failure that is not the upstream’s (a missing key)', async () => {
    const response = await post(
      env({
        primary: { ...unreachable, api_key_secret: 'NOT_SET', fallbacks: ['backup'] },
        backup: { adapter: 'demo', token_delay_ms: 0 },
      }),
    )
    expect(response.status).toBe(503)
  })

  it('rejects a fallback that names no model, as a config error', async () => {
    const response = await post(env({ primary: { adapter: 'demo', fallbacks: ['ghost'] } }))
    expect(response.status).toBe(500)
  })
})
