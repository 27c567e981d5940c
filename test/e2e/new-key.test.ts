import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readStream } from './sse-client'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * `npm run key:new -- NAME --write`, as a new user runs it: on a copy of the project's own
 * wrangler.toml, the key it prints lets its caller in, and the settings after `[vars]` still hold
 * (a table pasted under `[vars]` would have swallowed them and broken every request).
 */
const root = new URL('../../', import.meta.url).pathname
let config: string
let key: string
let gateway: WranglerDev

const newKey = (...args: string[]) =>
  spawnSync(process.execPath, [join(root, 'scripts/new-key.ts'), ...args, '--config', config], { encoding: 'utf8' })

beforeAll(async () => {
  const toml = readFileSync(join(root, 'wrangler.toml'), 'utf8')
    .replace(/^\[(assets|build)\]\n[\s\S]*?(?=^\[)/gm, '') // the page is not needed here
    .replace(/^main = ".*"$/m, `main = "${join(root, 'src/index.ts')}"`)
  config = join(mkdtempSync(join(tmpdir(), 'gateway-new-key-')), 'wrangler.toml')
  writeFileSync(config, toml)
  const printed = execFileSync(
    process.execPath,
    [join(root, 'scripts/new-key.ts'), 'ci-app', '--write', '--config', config],
    {
      encoding: 'utf8',
    },
  )
  key = /\b(lsg_[\w-]+)/.exec(printed)![1]!
  gateway = await startWranglerDev({}, {}, { config })
})

afterAll(async () => {
  await gateway?.stop()
})

const chat = (headers: Record<string, string>) =>
  fetch(`${gateway.url}/api/chat`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }),
  })

describe('npm run key:new -- NAME --write', () => {
  it('appends a table whose key streams an answer', async () => {
    expect(readFileSync(config, 'utf8')).toMatch(/\n\[vars\.API_KEYS\.ci-app\]\nsha256 = "[0-9a-f]{64}"\n/)
    const response = await chat({ Authorization: `Bearer ${key}` })
    expect(response.status).toBe(200)
    const events = await readStream(response).rest()
    expect(events.at(-1)?.event).toBe('done')
    // The line comes through wrangler's output a moment after the answer: wait for it.
    await expect.poll(() => gateway.logs()).toContain('"principal":"ci-app"')
    expect(gateway.logs()).not.toContain(key)
  })

  it('leaves every other setting where it was', async () => {
    // Anonymous callers still get the demo models, and a wrong key is still refused.
    expect((await chat({})).status).toBe(200)
    expect((await chat({ Authorization: 'Bearer lsg_not-a-key-at-all-000000000000000000000' })).status).toBe(401)
    const models = (await (await fetch(`${gateway.url}/api/models`)).json()) as { default: string }
    expect(models.default).toBe('demo')
  })

  it('refuses a name that is already there, and a malformed one, changing nothing', () => {
    const before = readFileSync(config, 'utf8')
    expect(newKey('ci-app', '--write').status).toBe(1)
    expect(newKey('not a name', '--write').status).toBe(2)
    expect(readFileSync(config, 'utf8')).toBe(before)
  })
})

describe("the README's key:new lines, run in order as a reader would", () => {
  it('leave no printed key that wrangler.toml does not let in', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    const lines = [...readme.matchAll(/^npm run key:new -- ([^#\n]*?)\s*(?:#.*)?$/gm)].map((match) =>
      match[1]!.split(/\s+/),
    )
    expect(lines.length).toBeGreaterThan(0)
    const fresh = join(mkdtempSync(join(tmpdir(), 'gateway-readme-keys-')), 'wrangler.toml')
    writeFileSync(fresh, readFileSync(join(root, 'wrangler.toml'), 'utf8'))
    const printed: string[] = []
    for (const args of lines) {
      const run = spawnSync(process.execPath, [join(root, 'scripts/new-key.ts'), ...args, '--config', fresh], {
        encoding: 'utf8',
      })
      const key = /\b(lsg_[\w-]+)/.exec(run.stdout)?.[1]
      if (key) printed.push(key)
    }
    expect(printed.length).toBeGreaterThan(0)
    const toml = readFileSync(fresh, 'utf8')
    for (const key of printed) {
      // A key whose hash is nowhere is one the reader may hand out, and every request with it fails.
      expect(toml, `a key printed by the README's commands is in no table`).toContain(
        createHash('sha256').update(key).digest('hex'),
      )
    }
  })
})
