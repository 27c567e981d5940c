import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stripVTControlCharacters } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'

/**
 * The README's first command, `npm run dev`, as a new user runs it: in a terminal (a
 * pseudo-terminal from util-linux's `script`), on a machine whose local database has no tables
 * yet (a fresh `--persist-to` directory), typing nothing. It must reach "Ready" by itself: wrangler
 * asks before it applies migrations whenever stdin and stdout are a terminal, and the first run
 * used to stop there, waiting for a "Y" the README never mentioned.
 */
const ROOT = new URL('../../', import.meta.url).pathname
// Nothing here may look like CI to wrangler (the `ci-info` package), or it would never ask.
const CI_VARIABLES = ['CI', 'CONTINUOUS_INTEGRATION', 'BUILD_NUMBER', 'RUN_ID', 'BUILD_ID']

let terminal: ChildProcess | undefined
let output = ''

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  return port
}

afterAll(async () => {
  if (!terminal || terminal.exitCode !== null) return
  // What the user does: Ctrl+C in the terminal, which signals every process in its foreground
  // group (npm, the dev script, wrangler). If that is not enough, the whole group is killed.
  const exited = once(terminal, 'exit')
  terminal.stdin!.write('\x03')
  const gone = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 15_000))])
  if (!gone) process.kill(-terminal.pid!, 'SIGKILL')
}, 30_000)

describe('npm run dev in a terminal, on a fresh local database', () => {
  it('applies the migrations and reaches Ready without asking anything', async () => {
    const [port, inspectorPort] = [await freePort(), await freePort()]
    const persistTo = mkdtempSync(join(tmpdir(), 'gateway-first-run-'))
    const command = `npm run dev -- --ip 127.0.0.1 --port ${port} --inspector-port ${inspectorPort} --persist-to ${persistTo}`
    const env: Record<string, string | undefined> = { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' }
    for (const name of CI_VARIABLES) delete env[name]
    terminal = spawn('script', ['--quiet', '--flush', '--command', command, '/dev/null'], {
      cwd: ROOT,
      env,
      // stdin stays open and silent: a prompt would wait on it forever.
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    })
    terminal.stdout!.on('data', (data) => (output += data))
    terminal.stderr!.on('data', (data) => (output += data))

    const deadline = Date.now() + 90_000
    while (!output.includes('Ready on') && terminal.exitCode === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    expect(output, 'npm run dev never said "Ready on" without input').toContain('Ready on')
    // The migration ran (wrangler's table of them, colours taken out, marks it done).
    expect(stripVTControlCharacters(output)).toMatch(/0001_usage_ledger\.sql\s*│\s*✅/)

    // And it serves.
    const models = await fetch(`http://127.0.0.1:${port}/api/models`)
    expect(models.status).toBe(200)
  }, 120_000)
})
