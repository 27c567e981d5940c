import { afterEach, describe, expect, it, vi } from 'vitest'
import { loadConfig } from '../../src/config/load'
import { asEnv } from '../helpers/env'

/** The ledger's settings: prices per model, admins, retention; checked with the rest of the config. */
const sha256 = 'a'.repeat(64)

/** The problems the config check logs for `vars`, or the config when there are none. */
function load(vars: Record<string, unknown>) {
  const error = vi.spyOn(console, 'error').mockImplementation(() => {})
  try {
    return { config: loadConfig(asEnv({ MODELS: { demo: { adapter: 'demo' } }, ...vars })) }
  } catch {
    const line = error.mock.calls.map((call) => String(call[0])).findLast((l) => l.includes('configuration is invalid'))
    return { problems: (JSON.parse(line!) as { problems: string[] }).problems }
  }
}

afterEach(() => vi.restoreAllMocks())

describe('ledger settings', () => {
  it('read a model’s price, admins among keys and token subjects, and the retention (90 days unless set)', () => {
    const { config } = load({
      MODELS: { demo: { adapter: 'demo', price: { input: 0.15, output: 0.6, reasoning: 2 } } },
      API_KEYS: { ops: { sha256, models: ['*'], admin: true }, app: { sha256: 'b'.repeat(64), models: ['demo'] } },
      JWT: { hs256_secret: 'S', issuer: 'i', audience: 'a', models: ['demo'] },
      ADMIN_SUBJECTS: 'alice, bob',
    })
    expect(config!.models.demo!.price).toEqual({ input: 0.15, output: 0.6, reasoning: 2 })
    expect(config!.access.apiKeysByHash.get(sha256)).toMatchObject({ name: 'ops', admin: true })
    expect(config!.access.apiKeysByHash.get('b'.repeat(64))).toMatchObject({ name: 'app', admin: false })
    expect([...config!.access.adminSubjects]).toEqual(['alice', 'bob'])
    expect(config!.usageRetentionDays).toBe(90)
    expect(load({ USAGE_RETENTION_DAYS: '30' }).config!.usageRetentionDays).toBe(30)
  })

  it('refuse a negative or missing price, retention below a day, and admin subjects without JWT', () => {
    const { problems } = load({
      MODELS: { demo: { adapter: 'demo', price: { input: -1, output: 1 } }, other: { adapter: 'demo', price: {} } },
      USAGE_RETENTION_DAYS: '0',
      ADMIN_SUBJECTS: 'alice',
    })
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^MODELS\.demo\.price\.input: /),
        expect.stringMatching(/^MODELS\.other\.price\.input: /),
        expect.stringMatching(/^USAGE_RETENTION_DAYS: /),
      ]),
    )
    // Reported once the schema holds: a setting that needs another.
    expect(load({ ADMIN_SUBJECTS: 'alice' }).problems).toEqual([
      'ADMIN_SUBJECTS: names JWT subjects, but JWT is not configured',
    ])
  })
})
