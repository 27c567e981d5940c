/**
 * `npm run bench`: every contender against the same loopback upstream and workload, taking turns.
 * All of them run at once (Workers under `wrangler dev`, peer gateways in processes of their own);
 * each round measures every contender once, in an order rotated round by round, so a slower
 * moment of the machine falls on all of them alike. Memory is measured the same way, each
 * contender in a fresh process per round. Prints a table (the median of the rounds with their
 * range, ratios against the floor, ties) and writes it to BENCHMARKS.md.
 * `npm run bench -- --smoke` runs tiny sizes, to keep the benchmark working.
 * `npm run bench -- --only=soak` runs the soak (`soak.ts`): 1,000 streams at once for minutes.
 */
import { loadavg } from 'node:os'
import { accessTable, measureAccess } from './access.ts'
import { loadAverage, writeBenchmarksMd } from './benchmarks-md.ts'
import { bundleGzipKiB } from './bundle.ts'
import { contenders, type Contender } from './contenders.ts'
import { addRound, type Figure, type Samples, type Summary } from './figures.ts'
import { ledgerTable, measureLedger } from './ledger.ts'
import { idleStreams } from './memory.ts'
import { serveOnWrangler, type Served } from './served.ts'
import { sizeFromArgs } from './size.ts'
import { soak, soakTable } from './soak.ts'
import { spread } from './stats.ts'
import { checkAnswer, streamingRound } from './streaming.ts'
import { figuresTable } from './table.ts'
import { BenchUpstream } from './upstream.ts'

const size = sizeFromArgs(process.argv)
const only = process.argv
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',')
// Only a full run of every contender, at least five rounds, replaces the published figures.
const partial =
  size.smoke || only !== undefined || size.rounds < 5 || process.argv.some((arg) => arg.startsWith('--streams='))
const loadBefore = loadavg()
process.stderr.write(`load average: ${loadAverage(loadBefore)}\n`)

const upstream = new BenchUpstream()
const upstreamUrl = await upstream.start()
const chosen = contenders.filter((c) => !only || only.includes(c.name))
const samples = new Map(chosen.map((c) => [c.name, {} as Samples]))
/** Why a contender has no figures: the first thing that went wrong with it. */
const failed = new Map<string, string>()
const fail = (name: string, why: string) => failed.has(name) || failed.set(name, why)
/**
 * Why a contender has no memory figure, when its streaming figures stand: a thousand streams that
 * did not all open in time (each resumable one is a Durable Object with its own SQLite file under
 * `wrangler dev`, slow on a loaded machine) say nothing about its CPU or latency.
 */
const memoryFailed = new Map<string, string>()
/** For ours: whether every idle stream got heartbeats, in every memory round. */
const heartbeats = new Map<string, boolean>()

const serve = (c: Contender): Promise<Served> =>
  c.serve ? c.serve(upstreamUrl) : serveOnWrangler(c.config, c.vars!(upstreamUrl))
/** Round `r`'s order: the contenders rotated by `r`, so none is always measured first or last. */
const rotated = <T>(list: T[], r: number) => [...list.slice(r % list.length), ...list.slice(0, r % list.length)]

if (chosen.length) {
  // CPU, burst, latency (and a resumable stream's own figures): every contender running, taking turns.
  const running = new Map<string, Served>()
  try {
    for (const c of chosen) {
      process.stderr.write(`starting ${c.name}...\n`)
      try {
        running.set(c.name, await serve(c))
        const wrong = await checkAnswer(c, running.get(c.name)!, size.tokens)
        if (wrong) fail(c.name, wrong)
      } catch (e) {
        fail(c.name, `failed: ${e}`)
      }
    }
    for (let round = 0; round < size.rounds; round++) {
      process.stderr.write(`round ${round + 1} of ${size.rounds}...\n`)
      for (const c of rotated(chosen, round)) {
        if (failed.has(c.name)) continue
        const figures = await streamingRound(c, running.get(c.name)!, upstream, size).catch((e) => `failed: ${e}`)
        if (typeof figures === 'string') fail(c.name, figures)
        else addRound(samples.get(c.name)!, figures)
      }
    }
  } finally {
    await Promise.all([...running.values()].map((served) => served.stop()))
  }

  // Memory per idle stream: a fresh process per contender and round, one at a time.
  for (let round = 0; round < size.memoryRounds; round++) {
    process.stderr.write(`memory round ${round + 1} of ${size.memoryRounds}...\n`)
    for (const c of rotated(chosen, round)) {
      if (failed.has(c.name) || c.cacheHit) continue
      const idle = await serve(c)
        .then((served) => idleStreams(c, served, upstream, size).finally(() => served.stop()))
        .catch((e) => `failed: ${e}`)
      if (typeof idle === 'string') {
        if (!memoryFailed.has(c.name)) memoryFailed.set(c.name, idle)
        continue
      }
      addRound(samples.get(c.name)!, { memoryPerStreamKiB: idle.bytesPerStream / 1024 })
      if (c.name.startsWith('ours')) heartbeats.set(c.name, (heartbeats.get(c.name) ?? true) && idle.everyStreamPinged)
    }
  }
  for (const c of chosen) {
    if (!c.serve && !failed.has(c.name)) addRound(samples.get(c.name)!, { bundleGzipKiB: bundleGzipKiB(c.config) })
  }
}

// The soak: many streams at once for minutes (`--only=soak` runs just this; not part of a full run).
let soakReport = ''
let soakLost = false
if (only?.includes('soak')) {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
  const soakSize = size.smoke ? { streams: 20, seconds: 1, paceMs: 100 } : { streams: 1000, seconds: 180, paceMs: 500 }
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
  access = await measureAccess(upstreamUrl, size.smoke ? 20 : 500).then(accessTable, (e) => `access: failed: ${e}`)
}
// What the usage ledger adds to the time to first byte (`--only=ledger` runs just this).
let ledger = ''
if (!only || only.includes('ledger')) {
  process.stderr.write('measuring the usage ledger...\n')
  ledger = await measureLedger(upstreamUrl, size.smoke ? 20 : 500).then(ledgerTable, (e) => `ledger: failed: ${e}`)
}
upstream.stop()
const loadAfter = loadavg()

const names = chosen.map((c) => c.name)
const summaries = new Map<string, Summary | string>(
  names.map((n) => [
    n,
    failed.get(n) ??
      Object.fromEntries(Object.entries(samples.get(n)!).map(([figure, values]) => [figure as Figure, spread(values)])),
  ]),
)
const memoryNotes = [...memoryFailed].map(([n, why]) => `- ${n}: no memory figure: ${why}`)
const heartbeatNotes = [...heartbeats].map(
  ([n, ok]) => `- ${n}: every one of the ${size.streams} idle streams received heartbeats: ${ok ? 'yes' : 'NO'}`,
)
const table = [
  ...(names.length ? [figuresTable(names, summaries, size), '', ...memoryNotes, ...heartbeatNotes] : []),
  ...(access ? ['', access] : []),
  ...(ledger ? ['', ledger] : []),
  ...(soakReport ? ['', soakReport] : []),
].join('\n')
console.log(table)
console.log(`\nload average before: ${loadAverage(loadBefore)}; after: ${loadAverage(loadAfter)}`)

if (!partial) writeBenchmarksMd(table, size, { before: loadBefore, after: loadAfter })
if (
  failed.size ||
  memoryFailed.size ||
  [...heartbeats.values()].includes(false) ||
  access.startsWith('access: failed') ||
  ledger.startsWith('ledger: failed') ||
  soakLost
)
  process.exitCode = 1
