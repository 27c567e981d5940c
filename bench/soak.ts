/**
 * The soak: many answers streaming at once for minutes under `wrangler dev`, against the loopback
 * upstream pacing its tokens. Not a test (nothing here is timed against a target): it reports how
 * many streams completed whole, how many were lost (cut, failed, wrong text, never opened), and
 * what each held in the Worker's memory. Run by `npm run bench -- --only=soak` (full size: 1,000
 * streams, a token every 500 ms for about three minutes), or with `--smoke` (20 streams, 1 s).
 * `--soak-streams=N` and `--soak-seconds=S` change the size.
 */
import { startWranglerDev } from '../test/e2e/wrangler-dev.ts'
import { ask } from './client.ts'
import { apiOnlyConfig } from './contenders.ts'
import { rssBytes, workerdProcesses } from './proc.ts'
import { token } from './upstream.ts'

export interface SoakSize {
  streams: number
  /** How long each answer streams. */
  seconds: number
  /** Milliseconds between tokens. */
  paceMs: number
}

export interface SoakFigures extends SoakSize {
  completed: number
  lost: number
  /** Why each lost stream was lost, by reason. */
  lostReasons: Record<string, number>
  /** Worker RSS growth at the peak, per stream (KiB), and what was left after they all ended. */
  peakKiBPerStream: number
  baselineMiB: number
  peakMiB: number
  afterMiB: number
  wallSeconds: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function soak(upstreamUrl: string, size: SoakSize): Promise<SoakFigures> {
  const tokens = Math.max(1, Math.round((size.seconds * 1000) / size.paceMs))
  const expected = Array.from({ length: tokens }, (_, i) => token(i)).join('')
  const dev = await startWranglerDev(
    {
      DEFAULT_MODEL: 'bench',
      MODELS: JSON.stringify({ bench: { adapter: 'openai', base_url: upstreamUrl, upstream_model: 'bench' } }),
      ANONYMOUS_MODELS: 'bench',
      HEARTBEAT_MS: '15000',
    },
    {},
    { config: apiOnlyConfig() },
  )
  try {
    const { worker } = workerdProcesses(dev.pid)
    await ask(dev.url, 'burst:100') // load and compile the code paths first
    const baseline = rssBytes(worker)
    let peak = baseline
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(worker))), 250)
    const started = performance.now()
    const lostReasons: Record<string, number> = {}
    const lose = (reason: string) => void (lostReasons[reason] = (lostReasons[reason] ?? 0) + 1)
    let completed = 0
    await Promise.all(
      Array.from({ length: size.streams }, async (_, i) => {
        try {
          const answer = await ask(dev.url, `paced:${tokens}:${size.paceMs}:soak-${i}`)
          const text = [...answer.body.matchAll(/^event: delta\ndata: (.*)$/gm)]
            .map((m) => (JSON.parse(m[1]!) as { text: string }).text)
            .join('')
          if (!/event: done\n[^\n]*\n\n$/.test(answer.body))
            lose(/"code":"([^"]+)"/.exec(answer.body)?.[1] ?? 'no terminal event')
          else if (text !== expected) lose('wrong text')
          else completed++
        } catch (error) {
          lose(`connection: ${(error as Error).message}`)
        }
      }),
    )
    clearInterval(sampler)
    const wallSeconds = (performance.now() - started) / 1000
    await sleep(2000) // let the Worker settle before reading what it kept
    const after = rssBytes(worker)
    const lost = size.streams - completed
    return {
      ...size,
      completed,
      lost,
      lostReasons,
      peakKiBPerStream: (peak - baseline) / size.streams / 1024,
      baselineMiB: baseline / 2 ** 20,
      peakMiB: peak / 2 ** 20,
      afterMiB: after / 2 ** 20,
      wallSeconds,
    }
  } finally {
    await dev.stop()
  }
}

/** The figures as Markdown. */
export function soakTable(f: SoakFigures): string {
  const reasons = Object.entries(f.lostReasons)
    .map(([reason, n]) => `${reason}: ${n}`)
    .join(', ')
  return [
    `Soak: ${f.streams} concurrent streams on /api/chat, each a token every ${f.paceMs} ms for ${f.seconds} s`,
    '',
    '| figure | value |',
    '| --- | --- |',
    `| completed whole (done, exact text) | ${f.completed} of ${f.streams} |`,
    `| lost | ${f.lost}${reasons ? ` (${reasons})` : ''} |`,
    `| wall time, all streams (s) | ${f.wallSeconds.toFixed(1)} |`,
    `| Worker RSS: before, peak, after (MiB) | ${f.baselineMiB.toFixed(0)}, ${f.peakMiB.toFixed(0)}, ${f.afterMiB.toFixed(0)} |`,
    `| memory per stream at the peak (KiB) | ${f.peakKiBPerStream.toFixed(1)} |`,
  ].join('\n')
}
