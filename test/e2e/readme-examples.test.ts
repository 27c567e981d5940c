import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * The documentation's own examples, run as a reader would run them: every `sh` block in README.md
 * and docs/*.md with a `curl` aimed at `http://localhost:8787` (what `npm run dev` serves) runs
 * against `wrangler dev` on the project's real Worker and wrangler.toml, and what the reader would
 * notice is checked against the output the docs show right after the block: the status, the
 * stream's terminal event, and JSON that parses. A block that cannot run here is marked with
 * `<!-- not-run: why -->` just before it, and only those are skipped.
 */
const ROOT = new URL('../../', import.meta.url).pathname
const DOCS_URL = 'http://localhost:8787'
const NOT_RUN = /^\s*<!--\s*not-run:\s*(.*?)\s*-->\s*$/

interface Example {
  /** Where the block is, as `file:line` (the line of its opening fence). */
  where: string
  script: string
  /** Why it is not run, from its `<!-- not-run: … -->` marker. */
  notRun?: string
  /** The output the docs show after the block, if any: what the block's last command prints. */
  shown?: string
}

interface Fence {
  info: string
  start: number
  end: number
  body: string
}

function documentationFiles(): string[] {
  const docs = existsSync(join(ROOT, 'docs'))
    ? readdirSync(join(ROOT, 'docs'))
        .filter((name) => name.endsWith('.md'))
        .sort()
        .map((name) => `docs/${name}`)
    : []
  return ['README.md', ...docs]
}

function fencesIn(lines: string[]): Fence[] {
  const fences: Fence[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})\s*([^`]*)$/.exec(lines[i]!)
    if (!open) continue
    const [, indent = '', ticks = '```', info = ''] = open
    let end = i + 1
    while (end < lines.length && lines[end]!.trim() !== ticks) end++
    const body = lines
      .slice(i + 1, end)
      .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
      .join('\n')
    fences.push({ info: info.trim(), start: i, end, body })
    i = end
  }
  return fences
}

/** The nearest line above `index` that is not blank, or undefined. */
function lineBefore(lines: string[], index: number): string | undefined {
  for (let i = index - 1; i >= 0; i--) if (lines[i]!.trim()) return lines[i]
  return undefined
}

function isRunnable(fence: Fence): boolean {
  return ['sh', 'bash'].includes(fence.info) && /\bcurl\b/.test(fence.body) && fence.body.includes(DOCS_URL)
}

function examplesIn(file: string): Example[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n')
  const fences = fencesIn(lines)
  const examples: Example[] = []
  fences.forEach((fence, k) => {
    const marker = NOT_RUN.exec(lineBefore(lines, fence.start) ?? '')
    if (!isRunnable(fence)) {
      if (marker)
        throw new Error(`${file}:${fence.start + 1}: a not-run marker before a block that would not run anyway`)
      return
    }
    const next = fences[k + 1]
    const onlyBlankBetween = next && lines.slice(fence.end + 1, next.start).every((line) => !line.trim())
    const shown =
      next && onlyBlankBetween && ['', 'text', 'http', 'console'].includes(next.info) ? next.body : undefined
    examples.push({ where: `${file}:${fence.start + 1}`, script: fence.body, notRun: marker?.[1], shown })
  })
  // A marker must sit right before a block: one left behind by an edit would skip nothing, silently.
  lines.forEach((line, i) => {
    if (!NOT_RUN.test(line)) return
    const next = lines.slice(i + 1).find((l) => l.trim())
    if (!next?.trim().startsWith('```')) throw new Error(`${file}:${i + 1}: a not-run marker that precedes no block`)
  })
  return examples
}

/**
 * A runnable block holds only what a reader pastes to talk to the gateway: `curl` commands, shell
 * variables set from one, and comments. Anything else (`npm run dev`, say) would hang or change
 * the project, so such a block must be split or marked not-run.
 */
function checkOnlyCurl(example: Example): void {
  const commands = example.script
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
  for (const command of commands) {
    if (!/^(curl\s|[A-Za-z_][A-Za-z0-9_]*=\$\(curl\s)/.test(command)) {
      throw new Error(`${example.where}: not a curl command: ${command}`)
    }
  }
}

interface Invocation {
  status: number
  headers: string
  /** What curl printed, headers included when the command asked for them (`-i`). */
  output: string
}

/**
 * Runs a block in bash, as pasted, with `curl` wrapped so each invocation's status and output
 * are recorded while its output still flows where the block sends it (`$(…)` included).
 */
async function run(script: string, baseUrl: string, env: Record<string, string>): Promise<Invocation[]> {
  const dir = mkdtempSync(join(tmpdir(), 'readme-example-'))
  const prelude = `set -euo pipefail
__dir=${JSON.stringify(dir)}
echo 0 > "$__dir/count"
curl() {
  local n=$(( $(cat "$__dir/count") + 1 ))
  echo "$n" > "$__dir/count"
  command curl --silent --show-error --max-time 60 --dump-header "$__dir/$n.headers" "$@" | tee "$__dir/$n.out"
  return "\${PIPESTATUS[0]}"
}
`
  const child = spawn('bash', ['-c', prelude + script.replaceAll(DOCS_URL, baseUrl)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stdout.resume()
  child.stderr.on('data', (data) => (stderr += data))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  if (code !== 0) throw new Error(`the block failed (exit ${code}):\n${stderr}`)

  const count = Number(readFileSync(join(dir, 'count'), 'utf8'))
  return Array.from({ length: count }, (_, i) => {
    const headers = readFileSync(join(dir, `${i + 1}.headers`), 'utf8')
    const statuses = [...headers.matchAll(/^HTTP\/[\d.]+ (\d{3})/gm)].map((match) => Number(match[1]))
    return { status: statuses.at(-1) ?? 0, headers, output: readFileSync(join(dir, `${i + 1}.out`), 'utf8') }
  })
}

/** Splits what curl printed (or what the docs show) into a status, if it has one, and a body. */
function split(output: string): { status?: number; body: string } {
  const statusLine = /^HTTP\/[\d.]+ (\d{3})/.exec(output)
  if (!statusLine) return { body: output }
  const end = /\r?\n\r?\n/.exec(output)
  return { status: Number(statusLine[1]), body: end ? output.slice(end.index + end[0].length) : '' }
}

/**
 * How a stream ended, as a reader sees it: the last named event (with its error code), or for
 * data-only streams (`/v1`, the UI message stream) the last data line, `[DONE]` or an error.
 */
function terminal(stream: string): string | undefined {
  const events = stream
    // Events end at a blank line; in the docs, an elision (`…`) between two events ends one too.
    .split(/\r?\n(?:\r?\n|…\r?\n)/)
    .map((block) => {
      const lines = block.split(/\r?\n/)
      const name = lines
        .filter((line) => line.startsWith('event:'))
        .at(-1)
        ?.slice(6)
        .trim()
      const data = lines
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trim())
        .join('\n')
      return { name, data }
    })
    .filter((event) => event.name || event.data)
  const codeOf = (data: string) => /"code":\s*"([^"]+)"/.exec(data)?.[1]
  const named = events.filter((event) => event.name)
  if (named.length) {
    const last = named.at(-1)!
    const code = last.name === 'error' ? codeOf(last.data) : undefined
    return code ? `event: ${last.name} (${code})` : `event: ${last.name}`
  }
  const last = events.at(-1)
  if (!last) return undefined
  if (last.data === '[DONE]') {
    const type = events
      .slice(0, -1)
      .map((event) => /^\{"type":"([^"]+)"/.exec(event.data)?.[1])
      .filter(Boolean)
      .at(-1)
    return type ? `[DONE] after ${type}` : '[DONE]'
  }
  return /^\{"error"/.test(last.data) ? `error (${codeOf(last.data)})` : 'data'
}

const looksLikeStream = (text: string) => /^(event|data|id|retry):/m.test(text)

/** The id of a stream's last event with one: how many events a reader counts before the end. */
const lastId = (stream: string) => [...stream.matchAll(/^id: *(\S+)/gm)].at(-1)?.[1]

function checkAgainstShown(example: Example, last: Invocation): void {
  const real = split(last.output)
  const context = `${example.where}, which printed:\n${last.output.slice(0, 2000)}`
  if (example.shown === undefined) {
    expect(last.status, context).toBeGreaterThanOrEqual(200)
    expect(last.status, context).toBeLessThan(300)
    if (/^content-type: text\/event-stream/im.test(last.headers)) {
      expect(terminal(real.body), context).toMatch(/^(event: done|\[DONE\])/)
    }
    return
  }

  const shown = split(example.shown)
  if (shown.status !== undefined) {
    expect(last.status, context).toBe(shown.status)
  } else {
    expect(last.status, context).toBeGreaterThanOrEqual(200)
    expect(last.status, context).toBeLessThan(300)
  }
  const shownBody = shown.body.trim()
  if (!shownBody) {
    expect(real.body.trim(), context).toBe('')
  } else if (looksLikeStream(shownBody)) {
    expect(last.headers, context).toMatch(/^content-type: text\/event-stream/im)
    expect(terminal(real.body), context).toBe(terminal(shownBody))
    // An answer the docs show finished is the one a run gives, not a stale one of another length
    // (a stopped or failed one ends wherever the timing cut it, so its ids are not compared).
    if (/^(event: done|\[DONE\] after finish$)/.test(terminal(shownBody) ?? '') && lastId(shownBody) !== undefined) {
      expect(lastId(real.body), context).toBe(lastId(shownBody))
    }
  } else if (/^[{[]/.test(shownBody)) {
    let parsed: unknown
    expect(() => (parsed = JSON.parse(real.body)), context).not.toThrow()
    const shownCode = /"code":\s*"([^"]+)"/.exec(shownBody)?.[1]
    if (shownCode) expect((parsed as { error?: { code?: string } }).error?.code, context).toBe(shownCode)
  }
}

const examples = documentationFiles().flatMap(examplesIn)
const gatewayKey = `lsg_${randomBytes(32).toString('base64url')}`
let gateway: WranglerDev

beforeAll(async () => {
  // The project's own wrangler.toml, as `npm run dev` serves it, plus the key the docs call
  // `$GATEWAY_KEY`, configured as they say: only its hash, and the models it may use.
  const sha256 = createHash('sha256').update(gatewayKey).digest('hex')
  gateway = await startWranglerDev({ API_KEYS: JSON.stringify({ 'readme-examples': { sha256, models: ['demo'] } }) })
})

afterAll(async () => {
  await gateway?.stop()
})

describe('the examples in README.md and docs/', () => {
  it('finds the examples, and every runnable one is only curl', () => {
    expect(examples.filter((example) => !example.notRun).length).toBeGreaterThanOrEqual(5)
    for (const example of examples) if (!example.notRun) checkOnlyCurl(example)
  })

  for (const example of examples) {
    const test = example.notRun ? it.skip : it
    const name = example.notRun ? `${example.where} (not run: ${example.notRun})` : example.where
    test(name, async () => {
      const invocations = await run(example.script, gateway.url, { GATEWAY_KEY: gatewayKey })
      expect(invocations.length, example.where).toBeGreaterThan(0)
      // The commands before the last set things up (start an answer, stop it): they must work.
      for (const earlier of invocations.slice(0, -1)) {
        expect(earlier.status, `${example.where}: ${earlier.output}`).toBeLessThan(400)
      }
      checkAgainstShown(example, invocations.at(-1)!)
    })
  }
})
