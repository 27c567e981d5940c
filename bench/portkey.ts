/**
 * Portkey's open-source gateway (`@portkey-ai/gateway`, a devDependency pinned to the version the
 * benchmark compares with), run as its package's bin runs it, on Node, in headless mode (no
 * console UI), listening on 127.0.0.1 only. It reaches the benchmark's upstream as an OpenAI
 * provider at a custom host, set per request by its headers.
 *
 * Its own lock file pins `@hono/node-server` 1.13.5; the 1.19 line npm resolves today answers every
 * stream with a 500 (`TypeError: immutable`, appending to a response's headers), so package.json
 * overrides it back to the lock file's version.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer, type AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import type { Served } from './served.ts'
import { treeCpuMs, treeRssBytes } from './proc.ts'

const LOOPBACK_ONLY = new URL('./loopback-only.ts', import.meta.url).pathname

/** The package's bin, resolved from its package.json as npm links it. */
function portkeyBin(): string {
  const manifest = createRequire(import.meta.url).resolve('@portkey-ai/gateway/package.json')
  const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin: string | Record<string, string> }
  return join(dirname(manifest), typeof bin === 'string' ? bin : Object.values(bin)[0]!)
}

export async function servePortkey(upstreamUrl: string): Promise<Served> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', LOOPBACK_ONLY, portkeyBin(), `--port=${port}`, '--headless'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (data) => (output += data))
  child.stderr.on('data', (data) => (output += data))
  const url = `http://127.0.0.1:${port}`
  const stop = async () => {
    if (child.exitCode !== null) return
    child.kill('SIGTERM')
    await Promise.race([once(child, 'exit'), new Promise((resolve) => setTimeout(resolve, 5000))])
    if (child.exitCode === null) child.kill('SIGKILL')
  }
  try {
    await waitUntilReady(url, () => child.exitCode !== null)
  } catch (error) {
    await stop()
    throw new Error(`${error}\n${output}`, { cause: error })
  }
  return {
    url,
    headers: {
      Authorization: 'Bearer bench', // forwarded to the upstream, which ignores it
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': upstreamUrl,
    },
    cpuMs: () => ({ own: treeCpuMs(child.pid!) }),
    rssBytes: () => treeRssBytes(child.pid!),
    logs: () => output,
    stop,
  }
}

async function waitUntilReady(url: string, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (exited()) throw new Error('portkey exited')
    try {
      if ((await fetch(url)).ok) return
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error('portkey did not become ready')
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  return port
}
