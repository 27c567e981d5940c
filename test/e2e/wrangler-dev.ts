import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const PROJECT_ROOT = new URL('../../', import.meta.url).pathname
const WRANGLER = join(PROJECT_ROOT, 'node_modules/wrangler/bin/wrangler.js')

export interface WranglerDev {
  url: string
  /** The wrangler process; its workerd processes are its descendants. */
  pid: number
  /** Everything the Worker and wrangler printed so far. */
  logs(): string
  stop(): Promise<void>
  /**
   * Kills wrangler and its workerd at once (SIGKILL to the process group), as a crash or a lost
   * host would: nothing gets to shut down cleanly. Only with `persistTo`, which starts it as a group.
   */
  kill(): Promise<void>
}

/**
 * Starts `wrangler dev` on the project's real Worker, with vars and secrets for the test, and
 * resolves once it is ready to serve.
 */
export async function startWranglerDev(...args: Parameters<typeof startOnce>): Promise<WranglerDev> {
  // A free port is found, then taken by wrangler: another test's server can take it in between.
  // That lost race is retried on new ports; any other failure is the test's to see.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(...args)
    } catch (error) {
      if (attempt >= 3 || !String(error).includes('Address already in use')) throw error
    }
  }
}

async function startOnce(
  vars: Record<string, string>,
  secrets: Record<string, string> = {},
  {
    config,
    persistTo,
    args: extraArgs = [],
  }: {
    config?: string
    /** Where local storage lives (`--persist-to`): a later `wrangler dev` on it finds the same Durable Objects. */
    persistTo?: string
    /** More `wrangler dev` flags (`--test-scheduled`, say). */
    args?: string[]
  } = {},
): Promise<WranglerDev> {
  const port = await freePort()
  const inspectorPort = await freePort()
  // Secrets go in through an env file, as `.dev.vars` would give them, never on the command line.
  const envFile = join(mkdtempSync(join(tmpdir(), 'gateway-e2e-')), '.env')
  writeFileSync(
    envFile,
    Object.entries(secrets)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  )
  const args = [WRANGLER, 'dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspectorPort)]
  args.push('--show-interactive-dev-session=false', '--env-file', envFile)
  if (config) args.push('--config', config)
  if (persistTo) args.push('--persist-to', persistTo)
  args.push(...extraArgs)
  for (const [name, value] of Object.entries(vars)) args.push('--var', `${name}:${value}`)

  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A process group of its own, so that `kill` reaches workerd too.
    detached: persistTo !== undefined,
  })
  let output = ''
  child.stdout!.on('data', (data) => (output += data))
  child.stderr!.on('data', (data) => (output += data))
  const url = `http://127.0.0.1:${port}`
  await waitUntilReady(child, () => output, url)
  return {
    url,
    pid: child.pid!,
    logs: () => output,
    stop: async () => {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await Promise.race([once(child, 'exit'), new Promise((resolve) => setTimeout(resolve, 5000))])
      if (child.exitCode === null) child.kill('SIGKILL')
    },
    kill: async () => {
      if (!persistTo) throw new Error('kill() needs persistTo (a process group of its own)')
      if (child.exitCode !== null) return
      const exited = once(child, 'exit')
      process.kill(-child.pid!, 'SIGKILL')
      await exited
    },
  }
}

/**
 * Applies the usage ledger's D1 migrations (migrations/) to the local state wrangler dev uses:
 * its default (`.wrangler/state`), or a directory of a test's own (`persistTo`), as
 * `npm run dev` does before it starts.
 */
export async function applyLedgerMigrations(persistTo?: string): Promise<void> {
  const args = ['d1', 'migrations', 'apply', 'USAGE_DB', '--local']
  if (persistTo) args.push('--persist-to', persistTo)
  await runWrangler(args)
}

/**
 * Runs `sql` on the local ledger in `persistTo` (after `applyLedgerMigrations`): rows a test
 * needs on days past, which no request made today can write.
 */
export async function executeLedgerSql(persistTo: string, sql: string): Promise<void> {
  await runWrangler(['d1', 'execute', 'USAGE_DB', '--local', '--persist-to', persistTo, '--command', sql])
}

async function runWrangler(wranglerArgs: string[]): Promise<void> {
  const args = [WRANGLER, ...wranglerArgs]
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', CI: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (data) => (output += data))
  child.stderr!.on('data', (data) => (output += data))
  // Bounded: a wrangler that hangs fails the test instead of stalling it.
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000)
  const [code] = (await once(child, 'exit')) as [number | null]
  clearTimeout(timer)
  if (code !== 0) throw new Error(`wrangler ${wranglerArgs.slice(0, 2).join(' ')} failed:\n${output}`)
}

async function waitUntilReady(child: ChildProcess, output: () => string, url: string): Promise<void> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited:\n${output()}`)
    if (output().includes('Ready on')) {
      try {
        await fetch(`${url}/__ready`)
        return
      } catch {
        // listening is announced a moment before it accepts
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  child.kill('SIGKILL')
  throw new Error(`wrangler dev did not become ready:\n${output()}`)
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  return port
}
