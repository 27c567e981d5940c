/**
 * `npm run bench`: every contender under `wrangler dev`, one after another, against the same
 * loopback upstream and workload, in one run. Prints a table (ratios against the floor) and writes
 * it to BENCHMARKS.md. `npm run bench -- --smoke` runs tiny sizes, to keep the benchmark working.
 * `npm run bench -- --only=soak` runs the soak (`soak.ts`): 1,000 streams at once for minutes.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import { startWranglerDev, type WranglerDev } from '../test/e2e/wrangler-dev.ts'
import { accessTable, measureAccess } from './access.ts'
import { ask, replay } from './client.ts'
import { contenders, type Contender } from './contenders.ts'
import { ledgerTable, measureLedger } from './ledger.ts'
import { cpuMs, rssBytes, workerdProcesses } from './proc.ts'
import { soak, soakTable } from './soak.ts'
import { BenchUpstream, token } from './upstream.ts'

const ROOT = new URL('../', import.meta.url).pathname
const smoke = process.argv.includes('--smoke')
const size = smoke
  ? {
      tokens: 200,
      runs: 1,
      pacedTokens: 30,
      paceMs: 5,
      streams: 20,
      holdMs: 2500,
      memoryRounds: 1,
      replays: 3,
      at50: 50,
    }
  : {
      tokens: 10_000,
      runs: 5,
      pacedTokens: 1000,
      paceMs: 5,
      streams: 1000,
      holdMs: 3000,
      memoryRounds: 3,
      replays: 50,
      at50: 1000,
    }
// `--streams=N`: fewer idle streams for the memory figure, on a machine too loaded to open 1,000 in a minute.
const streamsArg = process.argv.find((arg) => arg.startsWith('--streams='))
if (streamsArg) size.streams = Number(streamsArg.slice('--streams='.length))

interface Figures {
  workerCpuPer1k: number
  proxyCpuPer1k: number
  burstMs: number
  latencyP50: number
  latencyP99: number
  memoryPerStreamKiB: number
  heartbeatsOk: boolean | null
  bundleGzipKiB: number
  /** Resumable streams only: reading a finished answer back from its start. */
  replayFirstEventP99?: number
  replayWholeP99?: number
  /** Resumable streams only: SQLite rows written per 1,000 tokens, as the object counted them. */
  rowsWrittenPer1k?: number
  /** The same, for an answer paced as a typical model writes it: 50 tokens a second. */
  rowsWrittenPer1kAt50?: number
  /** Responses only: a stored response replayed with `starting_after` its last text delta but one. */
  replayAfterFirstEventP99?: number
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const expectedText = (n: number) => Array.from({ length: n }, (_, i) => token(i)).join('')

async function measure(contender: Contender, upstream: BenchUpstream, upstreamUrl: string): Promise<Figures | string> {
  const streaming = await withWranglerDev(contender, upstreamUrl, (dev) => measureStreaming(contender, dev, upstream))
  if (typeof streaming === 'string') return streaming

  // 4: memory per open stream, with every stream open on a silent upstream. RSS moves with the
  // allocator and the garbage collector, so this is the median of a few rounds, each in a fresh
  // process: memory freed by an earlier round would hide part of the next round's growth.
  const perStream: number[] = []
  let heartbeatsOk = true
  for (let round = 0; round < size.memoryRounds; round++) {
    const idle = await withWranglerDev(contender, upstreamUrl, async (dev) => {
      await ask(dev.url, 'burst:100', contender.request) // load and compile the code paths first
      return idleStreams(contender, dev, upstream)
    })
    if (typeof idle === 'string') return idle
    perStream.push(idle.bytesPerStream)
    heartbeatsOk &&= idle.everyStreamPinged
  }

  return {
    ...streaming,
    memoryPerStreamKiB: median(perStream) / 1024,
    heartbeatsOk: contender.name.startsWith('ours') ? heartbeatsOk : null,
    bundleGzipKiB: bundleSize(contender.config && resolve(ROOT, contender.config)),
  }
}

async function withWranglerDev<T>(
  contender: Contender,
  upstreamUrl: string,
  use: (dev: WranglerDev) => Promise<T>,
): Promise<T> {
  const config = contender.config && resolve(ROOT, contender.config)
  const dev = await startWranglerDev(contender.vars(upstreamUrl), {}, { config })
  try {
    return await use(dev)
  } finally {
    await dev.stop()
  }
}

/** Figures 1 to 3: CPU, burst wall time and per-event latency, after checking the answer is right. */
async function measureStreaming(contender: Contender, dev: WranglerDev, upstream: BenchUpstream) {
  const { worker, proxy } = workerdProcesses(dev.pid)

  // Correctness first: no figure for a contender that does not deliver the whole answer.
  const check = contender.read((await ask(dev.url, `burst:${size.tokens}`, contender.request)).body)
  if (check.text !== expectedText(size.tokens) || !check.complete) {
    return `incomplete or wrong answer (${check.text.length} of ${expectedText(size.tokens).length} chars, complete=${check.complete})`
  }

  // 1 and 2: CPU per 1,000 tokens and wall time, one 10,000-token burst at a time.
  const workerCpu: number[] = []
  const proxyCpu: number[] = []
  const wall: number[] = []
  let lastStream: string | undefined
  for (let run = 0; run < size.runs; run++) {
    const [w0, p0] = [cpuMs(worker), cpuMs(proxy)]
    const answer = await ask(dev.url, `burst:${size.tokens}`, contender.request)
    lastStream = answer.headers.location as string | undefined
    await sleep(50) // let the processes finish their bookkeeping before reading their clocks
    workerCpu.push(((cpuMs(worker) - w0) * 1000) / size.tokens)
    proxyCpu.push(((cpuMs(proxy) - p0) * 1000) / size.tokens)
    wall.push(answer.wallMs)
    if (contender.read(answer.body).text.length !== expectedText(size.tokens).length) return 'a burst run lost text'
  }

  // 3: added latency per event, upstream write -> client read, with the upstream pacing tokens.
  const run = `${contender.name}-${Date.now()}`
  const readTimes: number[] = []
  let carry = ''
  const paced = await ask(dev.url, `paced:${size.pacedTokens}:${size.paceMs}:${run}`, {
    ...contender.request,
    onChunk(text) {
      const now = performance.now()
      const seen = carry + text
      for (const match of seen.matchAll(/w(\d+) /g)) {
        const i = Number(match[1])
        if (readTimes[i] === undefined) readTimes[i] = now
      }
      carry = seen.slice(-12)
    },
  })
  if (contender.read(paced.body).text !== expectedText(size.pacedTokens)) return 'the paced answer was wrong'
  const written = upstream.writeTimes.get(run)!
  const latencies = written.map((at, i) => readTimes[i]! - at)

  return {
    workerCpuPer1k: median(workerCpu),
    proxyCpuPer1k: median(proxyCpu),
    burstMs: median(wall),
    latencyP50: percentile(latencies, 0.5),
    latencyP99: percentile(latencies, 0.99),
    ...(contender.resumable && (await measureResumable(contender, dev, lastStream))),
    ...(contender.responsesReplay && (await measureResponsesReplay(contender.responsesReplay.apiKey, dev))),
  }
}

/**
 * A stored `size.tokens` response replayed with `starting_after` near its end (its last text
 * delta but one): the worst case for the first event, since the stream is rebuilt from the
 * response's first event and everything before `starting_after` is encoded and skipped.
 */
async function measureResponsesReplay(apiKey: string, dev: WranglerDev) {
  const headers = { Authorization: `Bearer ${apiKey}` }
  const created = await ask(dev.url, `burst:${size.tokens}`, {
    path: '/v1/responses',
    headers,
    body: (content) => ({ model: 'bench', input: content }),
  })
  const { id } = JSON.parse(created.body) as { id: string }
  const url = `${dev.url}/v1/responses/${id}?stream=true`
  const events = (await replay(url, headers)).body.split('\n\n').filter((block) => block.startsWith('event: '))
  const lastDelta = events.findLastIndex((block) => block.startsWith('event: response.output_text.delta\n'))
  if (lastDelta < 1) throw new Error('the stored response had no text')
  const first: number[] = []
  for (let i = 0; i < size.replays; i++) {
    const read = await replay(`${url}&starting_after=${lastDelta - 1}`, headers)
    if (!read.body.startsWith('event: response.output_text.delta\n') || !read.body.includes('response.completed')) {
      throw new Error('the replay from starting_after was wrong')
    }
    first.push(read.firstEventMs)
  }
  return { replayAfterFirstEventP99: percentile(first, 0.99) }
}

/**
 * A resumable stream's own figures: reading a finished `size.tokens` answer back from its start
 * (what a reconnecting or reloaded client does), and the storage rows each answer wrote, from the
 * object's own `stream stored` log line (SQLite's count, which is what Cloudflare bills).
 */
async function measureResumable(contender: Contender, dev: WranglerDev, streamUrl: string | undefined) {
  if (!streamUrl) throw new Error('the resumable answer had no Location')
  const first: number[] = []
  const whole: number[] = []
  for (let i = 0; i < size.replays; i++) {
    const read = await replay(streamUrl)
    if (contender.read(read.body).text !== expectedText(size.tokens)) throw new Error('the replay was wrong')
    first.push(read.firstEventMs)
    whole.push(read.wholeMs)
  }
  const stored = () =>
    dev
      .logs()
      .split('\n')
      .filter((line) => line.includes('"msg":"stream stored"'))
      .map((line) => JSON.parse(line.slice(line.indexOf('{'))) as { events: number; rowsWritten: number })
  const bursts = stored().filter((s) => s.events > size.tokens)
  // Paced as a model writes: a token every 20 ms (50 a second), where a burst's batching cannot help.
  const before = stored().length
  const at50 = await ask(dev.url, `paced:${size.at50}:20:${contender.name}-at50-${Date.now()}`, contender.request)
  if (contender.read(at50.body).text !== expectedText(size.at50)) throw new Error('the answer at 50 tokens/s was wrong')
  await sleep(100) // its log line comes with the terminal event, just before the reader gets it
  const paced = stored().slice(before)
  return {
    replayFirstEventP99: percentile(first, 0.99),
    replayWholeP99: percentile(whole, 0.99),
    rowsWrittenPer1k: (median(bursts.map((s) => s.rowsWritten)) * 1000) / size.tokens,
    rowsWrittenPer1kAt50: paced.length === 1 ? (paced[0]!.rowsWritten * 1000) / size.at50 : undefined,
  }
}

/** Opens `size.streams` streams on the silent upstream, holds them, and measures the Worker's RSS growth. */
async function idleStreams(contender: Contender, dev: WranglerDev, upstream: BenchUpstream) {
  const { worker } = workerdProcesses(dev.pid)
  const rss0 = rssBytes(worker)
  const hangUp = new AbortController()
  const started = new Array<boolean>(size.streams).fill(false)
  const pinged = new Array<boolean>(size.streams).fill(false)
  const streams = Array.from({ length: size.streams }, (_, i) =>
    ask(dev.url, 'silent', {
      ...contender.request,
      signal: hangUp.signal,
      onResponse: () => (started[i] = true),
      onChunk: (text) => text.includes(': ping') && (pinged[i] = true),
    }).catch(() => {}),
  )
  // Open means open for the client: its upstream has the request and it has the response.
  // (Under wrangler dev each new Durable Object makes its own SQLite file, so a thousand
  // resumable streams take seconds to open locally; the hold starts once they all have.)
  const deadline = Date.now() + 60_000
  while ((upstream.silentOpen < size.streams || !started.every(Boolean)) && Date.now() < deadline) await sleep(100)
  const opened = started.filter(Boolean).length
  pinged.fill(false) // heartbeats from here on: every stream must get one while it is held
  await sleep(size.holdMs)
  const rss1 = rssBytes(worker)
  hangUp.abort()
  await Promise.all(streams)
  upstream.endSilent()
  while (upstream.silentOpen > 0) await sleep(50)
  if (opened < size.streams) return `only ${opened} of ${size.streams} streams opened`
  return { bytesPerStream: (rss1 - rss0) / size.streams, everyStreamPinged: pinged.every(Boolean) }
}

/** The Worker's gzipped size, as `wrangler deploy --dry-run` would upload it. */
function bundleSize(config: string | undefined): number {
  const outdir = mkdtempSync(join(tmpdir(), 'bench-bundle-'))
  const args = [join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', outdir]
  if (config) args.push('--config', config)
  execFileSync(process.execPath, args, { cwd: ROOT, stdio: 'ignore' })
  let bytes = 0
  for (const file of readdirSync(outdir, { recursive: true }) as string[]) {
    const path = join(outdir, file)
    if (/\.(m?js|wasm)$/.test(file) && statSync(path).isFile()) bytes += gzipSync(readFileSync(path)).length
  }
  return bytes / 1024
}

const upstream = new BenchUpstream()
const upstreamUrl = await upstream.start()
const results = new Map<string, Figures | string>()
const only = process.argv
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',')
for (const contender of contenders) {
  if (only && !only.includes(contender.name)) continue
  process.stderr.write(`measuring ${contender.name}...\n`)
  results.set(contender.name, await measure(contender, upstream, upstreamUrl).catch((e: unknown) => `failed: ${e}`))
}
// The soak: many streams at once for minutes (`--only=soak` runs just this; not part of a full run).
let soakReport = ''
let soakLost = false
if (only?.includes('soak')) {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
  const soakSize = smoke ? { streams: 20, seconds: 1, paceMs: 100 } : { streams: 1000, seconds: 180, paceMs: 500 }
  soakSize.streams = Number(arg('soak-streams') ?? soakSize.streams)
  soakSize.seconds = Number(arg('soak-seconds') ?? soakSize.seconds)
  process.stderr.write(`soak: ${soakSize.streams} streams for ${soakSize.seconds} s...\n`)
  const figures = await soak(upstreamUrl, soakSize).catch((e: unknown) => `soak: failed: ${e}`)
  soakLost = typeof figures === 'string' || figures.lost > 0
  soakReport = typeof figures === 'string' ? figures : soakTable(figures)
}
// What access control adds to the time to first byte (`--only=access` runs just this).
let access = ''
if (!only || only.includes('access')) {
  process.stderr.write('measuring access control...\n')
  access = await measureAccess(upstreamUrl, smoke ? 20 : 500).then(accessTable, (e: unknown) => `access: failed: ${e}`)
}
// What the usage ledger adds to the time to first byte (`--only=ledger` runs just this).
let ledger = ''
if (!only || only.includes('ledger')) {
  process.stderr.write('measuring the usage ledger...\n')
  ledger = await measureLedger(upstreamUrl, smoke ? 20 : 500).then(ledgerTable, (e: unknown) => `ledger: failed: ${e}`)
}
upstream.stop()

const floor = results.get('floor')
const rows: Array<[string, (f: Figures) => number | undefined, string]> = [
  ['CPU per 1k tokens, Worker (ms)', (f) => f.workerCpuPer1k, 'lower'],
  ['CPU per 1k tokens, entry proxy (ms)', (f) => f.proxyCpuPer1k, 'lower'],
  [`Burst: ${size.tokens} tokens, wall (ms)`, (f) => f.burstMs, 'lower'],
  ['Added latency per event p50 (ms)', (f) => f.latencyP50, 'lower'],
  ['Added latency per event p99 (ms)', (f) => f.latencyP99, 'lower'],
  [`Memory per open stream, ${size.streams} idle (KiB)`, (f) => f.memoryPerStreamKiB, 'lower'],
  ['Bundle, gzipped (KiB)', (f) => f.bundleGzipKiB, 'lower'],
  [`Replay of a ${size.tokens}-token answer: first event p99 (ms)`, (f) => f.replayFirstEventP99, 'lower'],
  [`Replay of a ${size.tokens}-token answer: whole p99 (ms)`, (f) => f.replayWholeP99, 'lower'],
  ['Storage rows written per 1k tokens, burst', (f) => f.rowsWrittenPer1k, 'lower'],
  ['Storage rows written per 1k tokens, 50 tokens/s', (f) => f.rowsWrittenPer1kAt50, 'lower'],
  [
    `Replay of a ${size.tokens}-token response from starting_after (its last delta): first event p99 (ms)`,
    (f) => f.replayAfterFirstEventP99,
    'lower',
  ],
]
const names = contenders.map((c) => c.name).filter((n) => results.has(n))
const cell = (figures: Figures | string | undefined, pick: (f: Figures) => number | undefined) => {
  if (typeof figures !== 'object') return 'n/a'
  const value = pick(figures)
  if (value === undefined) return '–'
  const base = typeof floor === 'object' ? pick(floor) : undefined
  const ratio = base !== undefined && base > 0 ? ` (${(value / base).toFixed(2)}×)` : ''
  return `${value.toFixed(value < 10 ? 2 : 0)}${ratio}`
}
const lines = [
  `| figure | ${names.join(' | ')} |`,
  `| --- | ${names.map(() => '---').join(' | ')} |`,
  ...rows.map(([label, pick]) => `| ${label} | ${names.map((n) => cell(results.get(n), pick)).join(' | ')} |`),
]
const oursNames = names.filter((n) => n.startsWith('ours'))
const heartbeatsMissed = oursNames.filter((n) => {
  const figures = results.get(n)
  return typeof figures === 'object' && !figures.heartbeatsOk
})
const notes = [
  ...names.flatMap((n) => (typeof results.get(n) === 'string' ? [`- ${n}: no figures, ${results.get(n)}`] : [])),
  ...oursNames.map(
    (n) =>
      `- ${n}: every one of the ${size.streams} idle streams received heartbeats: ${heartbeatsMissed.includes(n) ? 'NO' : 'yes'}`,
  ),
].filter(Boolean)
const table = [
  ...(names.length ? [...lines, '', ...notes] : []),
  ...(access ? ['', access] : []),
  ...(ledger ? ['', ledger] : []),
  ...(soakReport ? ['', soakReport] : []),
].join('\n')
console.log(table)

// Only a full run of every contender replaces the published figures. The rest of BENCHMARKS.md
// (the analysis) is written by hand and kept: only the part between the markers is generated.
if (!smoke && !only && !streamsArg) {
  const version = (name: string) =>
    JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version
  const generated =
    `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench\` on this project's CI-class machine ` +
    `(2 cores, shared; figures vary run to run, the ratios are what to compare). Versions: wrangler ${version('wrangler')}, ` +
    `hono ${version('hono')}, ai ${version('ai')}, Node ${process.version}.\n\n` +
    `Workload: a loopback OpenAI-style upstream; CPU and wall time are the median of ${size.runs} runs of one ${size.tokens}-token answer ` +
    `sent as fast as the socket takes it; latency is upstream write to client read with a token every ${size.paceMs} ms ` +
    `(${size.pacedTokens} tokens); memory is the Worker process's RSS growth per stream with ${size.streams} streams open on a silent upstream, ` +
    `the median of ${size.memoryRounds} rounds, each in a fresh \`wrangler dev\`. ` +
    `Ratios are against the floor (a Worker returning the upstream body untouched).\n\n${table}\n`
  const path = join(ROOT, 'BENCHMARKS.md')
  const [start, end] = ['<!-- bench:start -->\n', '<!-- bench:end -->']
  const current = existsSync(path) ? readFileSync(path, 'utf8') : ''
  const at = current.indexOf(start)
  const until = current.indexOf(end)
  writeFileSync(
    path,
    at >= 0 && until > at
      ? current.slice(0, at + start.length) + generated + current.slice(until)
      : `# Benchmarks\n\n${start}${generated}${end}\n`,
  )
}
const failed = names.filter((n) => typeof results.get(n) === 'string')
if (
  failed.length ||
  heartbeatsMissed.length ||
  access.startsWith('access: failed') ||
  ledger.startsWith('ledger: failed') ||
  soakLost
)
  process.exitCode = 1
