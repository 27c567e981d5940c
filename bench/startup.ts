/**
 * `npm run bench:startup`: what the gateway's bundle costs an isolate to start, against the floor's.
 * A Worker's whole bundle is parsed and its global scope run once per isolate (Cloudflare allows
 * 1 s for it), never per request, so this is the price of its size, and the most that loading
 * code lazily could save.
 *
 * Each bundle is built as deployed (minified), and `COPIES` Workers of it, each on its own socket,
 * are started in one bare `workerd serve`; the figure is the wall time from spawning workerd to
 * every copy having answered one request, divided by the copies, taking turns with the floor over
 * `--rounds=N` (default 9). Copies make each isolate's start count many times over workerd's own
 * (the process, its config, the sockets), which the floor pays too.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { ask } from './client.ts'
import { median } from './stats.ts'
import { BenchUpstream } from './upstream.ts'

const ROOT = new URL('../', import.meta.url).pathname
const WORKERD: string = createRequire(join(ROOT, 'node_modules/wrangler/package.json'))('workerd').default
/**
 * `loaded`: the floor, with the gateway's whole bundle loaded beside it and never called, so
 * `loaded` less `floor` is parsing the bundle and running its global scope, and `ours` less
 * `loaded` the first request's own start (compiling the functions it runs, loading the config).
 *
 * `unimported` and `split` ask what loading code only where it is used could save: the gateway's
 * bundle is uploaded as a second module (`GATEWAY_MODULE`) that only a dynamic `import()` names.
 * In `unimported` that import never runs, so `unimported` less `floor` is what a module costs an
 * isolate's start even if nothing imports it; `split` imports it on its first request, so `split`
 * less `ours` is what deferring the whole gateway costs the request that needs it.
 */
const GATEWAY_MODULE = './gateway.js'
const ENTRIES = {
  floor: "export { default } from './bench/contenders/floor/index.ts'",
  loaded:
    "import * as gateway from './src/index.ts'\n" +
    'Object.assign(globalThis, { gateway }) // kept, so the bundle cannot drop it\n' +
    "export { default } from './bench/contenders/floor/index.ts'",
  unimported:
    "import floor from './bench/contenders/floor/index.ts'\n" +
    'export default { fetch: (request, env, ctx) => request.headers.has("x-never") ? ' +
    `import('${GATEWAY_MODULE}').then((gateway) => gateway.default.fetch(request, env, ctx)) : floor.fetch(request, env) }`,
  split: `export default { fetch: (request, env, ctx) => import('${GATEWAY_MODULE}').then((gateway) => gateway.default.fetch(request, env, ctx)) }`,
  ours: "export { default } from './src/index.ts'\nexport * from './src/index.ts'",
}
const TWO_MODULES = new Set(['unimported', 'split'])
const COPIES = 20
const rounds = Number(process.argv.find((arg) => arg.startsWith('--rounds='))?.slice('--rounds='.length) ?? 9)

const wranglerToml = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8')
const compatibilityDate = /^compatibility_date = "(.+)"$/m.exec(wranglerToml)![1]!
const compatibilityFlags = /^compatibility_flags = (\[.*\])$/m.exec(wranglerToml)![1]!

const upstream = new BenchUpstream()
const upstreamUrl = await upstream.start()
const dir = mkdtempSync(join(tmpdir(), 'bench-startup-'))
const bindings = Object.entries({
  UPSTREAM_URL: upstreamUrl,
  DEFAULT_MODEL: 'bench',
  MODELS: JSON.stringify({ bench: { adapter: 'openai', base_url: upstreamUrl, upstream_model: 'bench' } }),
  ANONYMOUS_MODELS: 'bench',
})
  .map(([name, value]) => `(name = "${name}", text = ${JSON.stringify(value)})`)
  .join(', ')

const names = Object.keys(ENTRIES) as Array<keyof typeof ENTRIES>
const sizes: Record<string, number> = {}
const bundles: Array<[string, string]> = [...Object.entries(ENTRIES), ['gateway', ENTRIES.ours]]
for (const [name, contents] of bundles) {
  const outfile = join(dir, `${name}.js`)
  await build({
    stdin: { contents, resolveDir: ROOT, loader: 'ts' },
    bundle: true,
    minify: true, // as `wrangler deploy` uploads it (`minify = true`)
    format: 'esm',
    conditions: ['workerd', 'worker', 'browser'],
    external: ['cloudflare:*', GATEWAY_MODULE],
    outfile,
    logLevel: 'warning',
  })
  sizes[name] = gzipSync(readFileSync(outfile)).length / 1024
}

const perIsolate = Object.fromEntries(names.map((name) => [name, [] as number[]]))
try {
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 ? [...names].reverse() : names) perIsolate[name]!.push((await startAll(name)) / COPIES)
  }
} finally {
  upstream.stop()
}
const { floor, loaded, unimported, split, ours } = Object.fromEntries(
  names.map((name) => [name, median(perIsolate[name]!)]),
) as Record<(typeof names)[number], number>
console.log(`isolate start, spawn to first answer per Worker (ms), median of ${rounds} rounds of ${COPIES} Workers:`)
for (const name of names) {
  const all = perIsolate[name]!.map((ms) => ms.toFixed(1)).join(' ')
  console.log(`  ${name.padEnd(11)}${median(perIsolate[name]!).toFixed(1)}   all: ${all}   (${statSize(name)})`)
}
console.log(`  parsing the bundle and its global scope (loaded - floor): ${(loaded - floor).toFixed(1)} ms`)
console.log(`  the first request's own start (ours - loaded): ${(ours - loaded).toFixed(1)} ms`)
console.log(`  the bundle as a module nothing imports (unimported - floor): ${(unimported - floor).toFixed(1)} ms`)
console.log(`  importing it on the first request instead (split - ours): ${(split - ours).toFixed(1)} ms`)
console.log(`  all the gateway adds to an isolate's start: ${(ours - floor).toFixed(1)} ms (Cloudflare allows 1,000)`)

function statSize(name: string): string {
  if (TWO_MODULES.has(name)) return `the entry and ${statSize('gateway')}`
  return `${sizes[name]!.toFixed(1)} KiB gzipped, ${(statSync(join(dir, `${name}.js`)).size / 1024).toFixed(0)} KiB minified`
}

/** Spawns workerd with `COPIES` Workers of a bundle; resolves with the ms until every one has answered. */
async function startAll(name: string): Promise<number> {
  const port0 = 10000 + Math.floor(Math.random() * 20000) // under Linux's ephemeral ports (32768 up)
  writeFileSync(join(dir, `${name}.capnp`), config(name, port0))
  const started = performance.now()
  const workerd = spawn(WORKERD, ['serve', '--experimental', join(dir, `${name}.capnp`)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const exited = once(workerd, 'exit')
  const gaveUp = AbortSignal.timeout(10_000)
  try {
    const answers = Array.from({ length: COPIES }, (_, i) => firstAnswer(`http://127.0.0.1:${port0 + i}`, gaveUp))
    await Promise.race([
      Promise.all(answers),
      exited.then(([code]) => Promise.reject(new Error(`workerd exited (${code}) before answering`))),
    ])
    return performance.now() - started
  } finally {
    workerd.kill()
    await exited
  }
}

/** Asks until the Worker answers: it is not listening, or not started, until then. */
async function firstAnswer(url: string, gaveUp: AbortSignal): Promise<void> {
  while (!gaveUp.aborted) {
    try {
      await ask(url, 'burst:1', { signal: AbortSignal.any([gaveUp, AbortSignal.timeout(2_000)]) })
      return
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
  }
  throw new Error(`workerd did not answer on ${url}`)
}

function config(name: string, port0: number): string {
  const copies = Array.from({ length: COPIES }, (_, i) => i)
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    ${copies.map((i) => `(name = "w${i}", worker = .worker),`).join('\n    ')}
    (name = "loopback", network = (allow = ["local", "private"])),
  ],
  sockets = [
    ${copies.map((i) => `(name = "s${i}", address = "127.0.0.1:${port0 + i}", http = (), service = "w${i}")`).join(',\n    ')}
  ],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker", esModule = embed "${name}.js"),
    ${TWO_MODULES.has(name) ? `(name = "${GATEWAY_MODULE.slice(2)}", esModule = embed "gateway.js"),` : ''}
  ],
  compatibilityDate = "${compatibilityDate}",
  compatibilityFlags = ${compatibilityFlags},
  globalOutbound = "loopback",
  bindings = [${bindings}],
);
`
}
