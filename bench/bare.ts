/**
 * `npm run bench:bare`: the contenders in one bare `workerd serve` (the binary wrangler uses, with
 * no inspector, entry proxy or asset router), taking turns on the same bursts, so the Worker's own
 * cost per chunk shows with as little around it as possible. Prints CPU per 1,000 tokens, the
 * median of `--rounds=N` (default 7). Besides the baselines and `ours` (`/api/chat`), the
 * gateway's pass-through paths, whose provider's bytes are relayed (`src/pipeline/relay-answer.ts`):
 * `ours-messages-pass` (`/v1/messages` to an Anthropic model), `ours-responses-pass`
 * (`/v1/responses` to a Responses model) and `ours-chat-pass` (`/v1/chat/completions`), each
 * against the same upstream in its own wire format. `--heap` also prints each contender's JavaScript heap per
 * idle open stream, from heap snapshots taken through workerd's inspector after a full GC.
 *
 * This is the tool behind the analysis in BENCHMARKS.md; `npm run bench` is the benchmark.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { ask } from './client.ts'
import { cpuMs } from './proc.ts'
import { median } from './stats.ts'
import { BenchUpstream } from './upstream.ts'

const ROOT = new URL('../', import.meta.url).pathname
const WORKERD: string = createRequire(join(ROOT, 'node_modules/wrangler/package.json'))('workerd').default
const ENTRIES: Record<string, string> = {
  floor: 'bench/contenders/floor/index.ts',
  'js-pump': 'bench/contenders/js-pump/index.ts',
  naive: 'bench/contenders/naive/index.ts',
  ours: 'src/index.ts',
  'ours-messages-pass': 'src/index.ts',
  'ours-responses-pass': 'src/index.ts',
  'ours-chat-pass': 'src/index.ts',
}
/** How each contender is asked, where not as `/api/chat` with the `bench` model. */
const ASKED: Record<string, Parameters<typeof ask>[2]> = {
  'ours-messages-pass': {
    path: '/v1/messages',
    headers: { 'anthropic-version': '2023-06-01' },
    body: (content) => ({ model: 'claude', max_tokens: 20_000, stream: true, messages: [{ role: 'user', content }] }),
  },
  'ours-responses-pass': {
    path: '/v1/responses',
    body: (content) => ({ model: 'gpt', input: content, stream: true, store: false }),
  },
  'ours-chat-pass': {
    path: '/v1/chat/completions',
    body: (content) => ({
      model: 'bench',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content }],
    }),
  },
}
// The gateway's own runtime settings, so the bare run cannot drift from what wrangler runs.
const wranglerToml = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8')
const compatibilityDate = /^compatibility_date = "(.+)"$/m.exec(wranglerToml)![1]!
const compatibilityFlags = /^compatibility_flags = (\[.*\])$/m.exec(wranglerToml)![1]!
const TOKENS = 10_000
const IDLE_STREAMS = 200
const rounds = Number(process.argv.find((arg) => arg.startsWith('--rounds='))?.slice('--rounds='.length) ?? 7)
const INSPECTOR_PORT = 9300 + Math.floor(Math.random() * 600)

const upstream = new BenchUpstream()
const upstreamUrl = await upstream.start()
const dir = mkdtempSync(join(tmpdir(), 'bench-bare-'))
const names = Object.keys(ENTRIES)
const port0 = 10000 + Math.floor(Math.random() * 20000) // under Linux's ephemeral ports (32768 up)
const url = (i: number) => `http://127.0.0.1:${port0 + i}`

for (const name of names) {
  await build({
    entryPoints: [join(ROOT, ENTRIES[name]!)],
    bundle: true,
    format: 'esm',
    conditions: ['workerd', 'worker', 'browser'],
    external: ['cloudflare:*'], // the runtime's own modules (Durable Object base classes)
    outfile: join(dir, `${name}.js`),
    logLevel: 'warning',
  })
}
// Every contender gets every binding; each reads the ones it knows.
const models = {
  bench: { adapter: 'openai', base_url: upstreamUrl, upstream_model: 'bench' },
  claude: { adapter: 'anthropic', base_url: upstreamUrl, upstream_model: 'claude-bench', api_key_secret: 'BENCH_KEY' },
  gpt: { adapter: 'openai', api: 'responses', base_url: upstreamUrl, upstream_model: 'bench' },
}
const bindings = Object.entries({
  UPSTREAM_URL: upstreamUrl,
  DEFAULT_MODEL: 'bench',
  HEARTBEAT_MS: '1000',
  MODELS: JSON.stringify(models),
  ANONYMOUS_MODELS: 'bench, claude, gpt', // the benchmark calls without credentials
  BENCH_KEY: 'sk-ant-bench',
})
  .map(([name, value]) => `(name = "${name}", text = ${JSON.stringify(value)})`)
  .join(', ')
writeFileSync(
  join(dir, 'config.capnp'),
  `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    ${names.map((name, i) => `(name = "${name}", worker = .w${i}),`).join('\n    ')}
    (name = "loopback", network = (allow = ["local", "private"])),
  ],
  sockets = [
    ${names.map((name, i) => `(name = "s${i}", address = "127.0.0.1:${port0 + i}", http = (), service = "${name}")`).join(',\n    ')}
  ],
);
${names
  .map(
    (name, i) => `const w${i} :Workerd.Worker = (
  modules = [(name = "worker", esModule = embed "${name}.js")],
  compatibilityDate = "${compatibilityDate}",
  compatibilityFlags = ${compatibilityFlags},
  globalOutbound = "loopback",
  bindings = [${bindings}],
);`,
  )
  .join('\n')}
`,
)

const heap = process.argv.includes('--heap')
const args = ['serve', '--experimental', join(dir, 'config.capnp')]
if (heap) args.push(`--inspector-addr=127.0.0.1:${INSPECTOR_PORT}`)
const workerd = spawn(WORKERD, args, { stdio: ['ignore', 'ignore', 'inherit'] })
try {
  await waitForListening()
  for (let i = 0; i < names.length; i++) await ask(url(i), `burst:${TOKENS}`, ASKED[names[i]!]) // compile and warm up

  const cpu = names.map(() => [] as number[])
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const before = cpuMs(workerd.pid!)
      await ask(url(i), `burst:${TOKENS}`, ASKED[names[i]!])
      await new Promise((resolve) => setTimeout(resolve, 30))
      cpu[i]!.push(((cpuMs(workerd.pid!) - before) * 1000) / TOKENS)
    }
  }
  console.log(`bare workerd, CPU per 1k tokens (ms), median of ${rounds} interleaved rounds:`)
  names.forEach((name, i) => console.log(`  ${name.padEnd(19)} ${median(cpu[i]!)}   all: ${cpu[i]!.join(' ')}`))

  if (heap) {
    console.log(`JavaScript heap per idle open stream (KiB, after a full GC, ${IDLE_STREAMS} streams):`)
    for (let i = 0; i < names.length; i++)
      console.log(`  ${names[i]!.padEnd(19)} ${(await heapPerStream(i)).toFixed(1)}`)
  }
} finally {
  workerd.kill()
  upstream.stop()
}

async function waitForListening(): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      await ask(url(0), 'burst:1')
      return
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  throw new Error('workerd did not start')
}

/** Heap snapshot sizes before and with `IDLE_STREAMS` silent streams open on contender `i`. */
async function heapPerStream(i: number): Promise<number> {
  const targets = (await (await fetch(`http://127.0.0.1:${INSPECTOR_PORT}/json/list`)).json()) as Array<{
    title: string
    webSocketDebuggerUrl: string
  }>
  // Each worker is its own isolate and inspector target, titled "workerd: worker <name>".
  const target = targets.find((t) => t.title.endsWith(` ${names[i]}`))!
  const inspector = new WebSocket(target.webSocketDebuggerUrl)
  await once(inspector, 'open')
  const snapshotBytes = async () => {
    const chunks: string[] = []
    const done = new Promise<void>((resolve) =>
      inspector.addEventListener('message', function listen(event) {
        const message = JSON.parse(String(event.data))
        if (message.method === 'HeapProfiler.addHeapSnapshotChunk') chunks.push(message.params.chunk)
        if (message.id === 1) {
          inspector.removeEventListener('message', listen)
          resolve()
        }
      }),
    )
    // A snapshot collects garbage first, so it counts only what is still reachable.
    inspector.send(JSON.stringify({ id: 1, method: 'HeapProfiler.takeHeapSnapshot', params: {} }))
    await done
    const snapshot = JSON.parse(chunks.join(''))
    const fields: string[] = snapshot.snapshot.meta.node_fields
    const selfSize = fields.indexOf('self_size')
    let total = 0
    for (let n = selfSize; n < snapshot.nodes.length; n += fields.length) total += snapshot.nodes[n]
    return total
  }
  const before = await snapshotBytes()
  const hangUp = new AbortController()
  const streams = Array.from({ length: IDLE_STREAMS }, () =>
    ask(url(i), 'silent', { ...ASKED[names[i]!], signal: hangUp.signal }).catch(() => {}),
  )
  while (upstream.silentOpen < IDLE_STREAMS) await new Promise((resolve) => setTimeout(resolve, 100))
  const during = await snapshotBytes()
  hangUp.abort()
  await Promise.all(streams)
  upstream.endSilent()
  while (upstream.silentOpen > 0) await new Promise((resolve) => setTimeout(resolve, 50))
  inspector.close()
  return (during - before) / IDLE_STREAMS / 1024
}
