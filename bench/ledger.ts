/**
 * What the usage ledger adds to the time to first byte: the same anonymous one-token chat against
 * two `wrangler dev`s running side by side, one with the ledger bound (`USAGE_QUEUE` and its
 * consumer writing to `USAGE_DB`, migrated) and one with those blocks taken out of wrangler.toml.
 * They take turns request by request, so a slower moment of the machine falls on both alike.
 * Afterwards the ledger's own count says whether every answer was recorded. Run by
 * `npm run bench -- --only=ledger`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateApiKey, hashApiKey } from '../src/access/api-key.ts'
import { applyLedgerMigrations, startWranglerDev, type WranglerDev } from '../test/e2e/wrangler-dev.ts'
import { timeToFirstByte } from './access.ts'
import { apiOnlyConfig } from './contenders.ts'
import { percentile } from './stats.ts'

export interface LedgerFigures {
  ttfb: Record<'without the ledger' | 'with the ledger', { p50: number; p99: number }>
  requests: number
  /** Answers the ledger holds once its queue has drained, of `recordedOf` sent with it bound. */
  recorded: number
  recordedOf: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The API-only config (as `ours` is measured) without the ledger's queue and database. */
function withoutLedger(config: string): string {
  const toml = readFileSync(config, 'utf8').replace(
    /^\[\[(queues\.producers|queues\.consumers|d1_databases)\]\]\n[\s\S]*?(?=^\[)/gm,
    '',
  )
  const path = join(mkdtempSync(join(tmpdir(), 'bench-no-ledger-')), 'wrangler.toml')
  writeFileSync(path, toml)
  return path
}

export async function measureLedger(upstreamUrl: string, requests: number): Promise<LedgerFigures> {
  const admin = generateApiKey()
  const vars = {
    DEFAULT_MODEL: 'bench',
    MODELS: JSON.stringify({
      bench: { adapter: 'openai', base_url: upstreamUrl, upstream_model: 'bench', price: { input: 1, output: 2 } },
    }),
    ANONYMOUS_MODELS: 'bench',
    API_KEYS: JSON.stringify({ admin: { sha256: await hashApiKey(admin), models: ['bench'], admin: true } }),
  }
  const config = apiOnlyConfig()
  const ledgerState = mkdtempSync(join(tmpdir(), 'bench-ledger-state-'))
  await applyLedgerMigrations(ledgerState)
  const devs: Record<keyof LedgerFigures['ttfb'], WranglerDev> = {
    'without the ledger': await startWranglerDev(vars, {}, { config: withoutLedger(config) }),
    'with the ledger': await startWranglerDev(vars, {}, { config, persistTo: ledgerState }),
  }
  try {
    const times = { 'without the ledger': [] as number[], 'with the ledger': [] as number[] }
    const warmUp = Math.max(5, Math.floor(requests / 10))
    for (let i = 0; i < warmUp + requests; i++) {
      for (const [kind, dev] of Object.entries(devs) as Array<[keyof typeof devs, WranglerDev]>) {
        const ms = await timeToFirstByte(dev.url, {})
        if (i >= warmUp) times[kind].push(ms)
      }
    }
    const recordedOf = warmUp + requests
    const recorded = await recordedAnswers(devs['with the ledger'], admin, recordedOf)
    const ttfb = Object.fromEntries(
      Object.entries(times).map(([kind, values]) => [
        kind,
        { p50: percentile(values, 0.5), p99: percentile(values, 0.99) },
      ]),
    ) as LedgerFigures['ttfb']
    return { ttfb, requests, recorded, recordedOf }
  } finally {
    await Promise.all(Object.values(devs).map((dev) => dev.stop()))
  }
}

/** The ledger's count of answers, once it stops growing (the queue delivers every few seconds). */
async function recordedAnswers(dev: WranglerDev, admin: string, expected: number): Promise<number> {
  let count = -1
  for (let tries = 0; tries < 60; tries++) {
    const response = await fetch(`${dev.url}/api/admin/usage?group_by=outcome`, {
      headers: { Authorization: `Bearer ${admin}` },
    })
    const { rows } = (await response.json()) as { rows: Array<{ requests: number }> }
    count = rows.reduce((sum, row) => sum + row.requests, 0)
    if (count >= expected) break
    await sleep(1000)
  }
  return count
}

export function ledgerTable({ ttfb, requests, recorded, recordedOf }: LedgerFigures): string {
  const base = ttfb['without the ledger']
  const f = (ms: number) => ms.toFixed(2)
  const signed = (ms: number) => `${ms >= 0 ? '+' : ''}${ms.toFixed(2)}`
  return [
    `Usage ledger: time to first byte, ${requests} anonymous requests to each, taking turns (ms)`,
    '',
    '| Worker | TTFB p50 | TTFB p99 | added p50 | added p99 |',
    '| --- | --- | --- | --- | --- |',
    ...Object.entries(ttfb).map(([kind, { p50, p99 }]) =>
      kind === 'without the ledger'
        ? `| ${kind} | ${f(p50)} | ${f(p99)} | | |`
        : `| ${kind} | ${f(p50)} | ${f(p99)} | ${signed(p50 - base.p50)} | ${signed(p99 - base.p99)} |`,
    ),
    '',
    `The ledger recorded ${recorded} of the ${recordedOf} answers sent with it bound (warm-up included).`,
  ].join('\n')
}
