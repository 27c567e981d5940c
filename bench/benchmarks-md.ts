/**
 * Writes a full run's figures into BENCHMARKS.md. The rest of the file (the analysis) is written by
 * hand and kept: only the part between the markers is generated.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Size } from './size.ts'

const ROOT = new URL('../', import.meta.url).pathname

const version = (name: string): string =>
  JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version

/** The machine's load average over 1, 5 and 15 minutes, as `uptime` prints it. */
export const loadAverage = (load: number[]) => load.map((l) => l.toFixed(2)).join(', ')

export function writeBenchmarksMd(table: string, size: Size, load: { before: number[]; after: number[] }): void {
  const generated =
    `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench\` on this project's CI-class machine ` +
    `(2 cores). Load average (1, 5, 15 min) before the run: ${loadAverage(load.before)}; after: ${loadAverage(load.after)}. ` +
    `Versions: wrangler ${version('wrangler')}, hono ${version('hono')}, ai ${version('ai')}, ` +
    `@portkey-ai/gateway ${version('@portkey-ai/gateway')}, Node ${process.version}.\n\n` +
    `Workload: a loopback OpenAI-style upstream. Every contender runs at once and they take turns: ` +
    `${size.rounds} rounds, each measuring every contender once, in an order rotated each round. ` +
    `Each cell is the median of the rounds, with the lowest and highest round in brackets. ` +
    `CPU and wall time are one ${size.tokens}-token answer sent as fast as the socket takes it (CPU: a Worker's own ` +
    `workerd process or a peer's process tree; the entry proxy is \`wrangler dev\`'s, which production does not run); latency is upstream write ` +
    `to client read with a token every ${size.paceMs} ms (${size.pacedTokens} tokens); memory is the contender's RSS ` +
    `growth per stream with ${size.streams} streams open on a silent upstream, ${size.memoryRounds} rounds, each in a fresh process. ` +
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
