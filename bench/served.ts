/**
 * A contender running and ready for requests, however it runs: a Worker under `wrangler dev`, or
 * a peer gateway in a process of its own. The benchmark measures every contender through this.
 */
import { cpSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { applyLedgerMigrations, startWranglerDev } from '../test/e2e/wrangler-dev.ts'
import { cpuMs, rssBytes, workerdProcesses } from './proc.ts'

const ROOT = new URL('../', import.meta.url).pathname

export interface Served {
  url: string
  /** Headers every request to it carries: how a peer gateway is told where the upstream is. */
  headers?: Record<string, string>
  /**
   * CPU used so far (ms): `own` is the contender itself (a Worker's workerd process, a peer's
   * process tree); `proxy` is `wrangler dev`'s entry proxy in front of a Worker, which production
   * does not run (none for a peer).
   */
  cpuMs(): { own: number; proxy?: number }
  /** Resident memory of what `own` counts, in bytes. */
  rssBytes(): number
  /** Everything it printed so far. */
  logs(): string
  stop(): Promise<void>
}

/**
 * A Worker under `wrangler dev` (`config` relative to the project root or absolute; none means the
 * gateway's own wrangler.toml). Each gets local storage of its own, so contenders running side by
 * side never share a Durable Object's SQLite file, with the usage ledger's D1 tables already made
 * (copied from one migrated directory), as `npm run dev` makes them.
 */
export async function serveOnWrangler(config: string | undefined, vars: Record<string, string>): Promise<Served> {
  const persistTo = mkdtempSync(join(tmpdir(), 'bench-state-'))
  cpSync(await migratedState(), persistTo, { recursive: true })
  const dev = await startWranglerDev(vars, {}, { config: config && resolve(ROOT, config), persistTo })
  const { worker, proxy } = workerdProcesses(dev.pid)
  return {
    url: dev.url,
    cpuMs: () => ({ own: cpuMs(worker), proxy: cpuMs(proxy) }),
    rssBytes: () => rssBytes(worker),
    logs: dev.logs,
    stop: dev.stop,
  }
}

let migrated: Promise<string> | undefined
function migratedState(): Promise<string> {
  migrated ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-state-migrated-'))
    await applyLedgerMigrations(dir)
    return dir
  })()
  return migrated
}
