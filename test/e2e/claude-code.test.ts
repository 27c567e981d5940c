import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { TestUpstream, testModels } from './upstream-server'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * The real Claude Code (`@anthropic-ai/claude-code`, `claude -p`), unchanged, with
 * `ANTHROPIC_BASE_URL` at the gateway under `wrangler dev` and `ANTHROPIC_AUTH_TOKEN` a gateway
 * key: on the demo model, and through a whole tool loop on an OpenAI-compatible loopback upstream
 * (translated) and on an Anthropic-shaped one (passed through as Claude Code sent it).
 * Nothing leaves the machine: a temporary HOME, telemetry, updates and other traffic switched off.
 */

const CLAUDE = new URL('../../node_modules/.bin/claude', import.meta.url).pathname
const run = promisify(execFile)

let upstream: TestUpstream
let gateway: WranglerDev
let apiKey: string
let folder: string

beforeAll(async () => {
  upstream = new TestUpstream()
  const upstreamUrl = await upstream.start()
  apiKey = generateApiKey()
  gateway = await startWranglerDev(
    {
      DEFAULT_MODEL: 'demo',
      MODELS: testModels(upstreamUrl, undefined, 'ANTHROPIC_KEY'),
      API_KEYS: JSON.stringify({ agent: { sha256: await hashApiKey(apiKey), models: ['*'] } }),
    },
    { ANTHROPIC_KEY: 'sk-ant-upstream' },
  )
  folder = mkdtempSync(join(tmpdir(), 'claude-code-e2e-'))
})

afterAll(async () => {
  await gateway?.stop()
  await upstream?.stop()
  if (folder) rmSync(folder, { recursive: true, force: true })
})

/** `claude -p <prompt> --model <model>` in the temporary folder; its printed answer. */
async function claude(prompt: string, model: string): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'claude-code-home-'))
  try {
    const { stdout } = await run(CLAUDE, ['-p', prompt, '--model', model], {
      cwd: folder,
      timeout: 90_000,
      // Only what it needs: no key or setting of the machine's own reaches it.
      env: {
        PATH: process.env.PATH,
        HOME: home,
        ANTHROPIC_BASE_URL: gateway.url,
        ANTHROPIC_AUTH_TOKEN: apiKey,
        DISABLE_TELEMETRY: '1',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_AUTOUPDATER: '1',
      },
    })
    return stdout
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

describe('Claude Code through /v1/messages', () => {
  it('gives a plain answer on the demo model', { timeout: 120_000 }, async () => {
    const answer = await claude('say hello', 'demo')
    expect(answer).toContain("I am the gateway's built-in demo model")
  })

  it(
    'completes a tool loop on an OpenAI-compatible model: Read, then the file in its answer',
    { timeout: 120_000 },
    async () => {
      const note = join(folder, 'note.txt')
      writeFileSync(note, 'pelican-42\n')
      upstream.requests.length = 0
      const answer = await claude(`read-file:${note}`, 'upstream')
      // The upstream asked for Read, Claude Code ran it, and the upstream's answer quotes its result.
      expect(answer).toContain('tool said:')
      expect(answer).toContain('pelican-42')
      const [first, second] = upstream.requests.map((r) => r.body)
      const tools = first!.tools as Array<{ function: { name: string } }>
      expect(tools.map((t) => t.function.name)).toContain('Read')
      // Mapped: output_config.effort as the upstream's reasoning setting; ignored: Anthropic's own service.
      expect(first).toMatchObject({ model: 'test-model', reasoning_effort: expect.any(String) })
      expect(first).not.toHaveProperty('context_management')
      expect(first).not.toHaveProperty('metadata')
      expect(second!.messages.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'call_agent' })
      // Nothing dropped silently: the answer's log line names what was.
      expect(gateway.logs()).toMatch(/"ignoredFields":\[[^\]]*"context_management"/)
    },
  )

  it(
    'completes a tool loop on an anthropic model, passed through: cache_control and context_management as it sent them',
    { timeout: 120_000 },
    async () => {
      const note = join(folder, 'memo.txt')
      writeFileSync(note, 'heron-7\n')
      upstream.requests.length = 0
      const answer = await claude(`read-file:${note}`, 'claude')
      // The upstream asked for Read, Claude Code ran it, and the upstream's answer quotes its result.
      expect(answer).toContain('Results:')
      expect(answer).toContain('heron-7')
      const turns = upstream.requests.filter((r) => JSON.stringify(r.body).includes('read-file:'))
      const [first, second] = turns
      expect(first, 'the first turn of the loop reached the upstream').toBeDefined()
      expect(second, 'the turn with the tool result reached the upstream').toBeDefined()
      // Anthropic's own shapes, not the gateway's: input_schema tools, system blocks, the model renamed.
      expect(first!.body.model).toBe('claude-upstream')
      const tools = first!.body.tools as Array<{ name: string; input_schema?: object }>
      expect(tools.find((t) => t.name === 'Read')).toHaveProperty('input_schema')
      const sent = JSON.stringify(second!.body)
      // Claude Code marks its prompt for caching and asks for context editing: both arrive.
      expect(sent).toContain('"cache_control":{"type":"ephemeral"')
      expect(second!.body).toHaveProperty('context_management')
      // What Claude Code sent, field for field: the gateway's own request log has it, and the body is it.
      const last = second!.body.messages.at(-1)!.content as Array<{ type: string; tool_use_id?: string }>
      expect(last.some((block) => block.type === 'tool_result' && block.tool_use_id === 'toolu_agent')).toBe(true)
      expect(second!.headers['anthropic-beta']).toBeTruthy()
    },
  )
})
