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
 * The real Codex CLI (`@openai/codex`, `codex exec`), unchanged, with a `model_providers` entry at
 * the gateway's `/v1` (`wire_api = "responses"`) and a gateway key: on the demo model, and through
 * a whole tool loop (a shell command's output in its answer) on three loopback upstreams: an
 * OpenAI-compatible Chat Completions one and an Anthropic one, both by translation, and one that
 * speaks the Responses API (`api = "responses"`), by pass-through. Translated, its hosted
 * `web_search` tool is switched off in its config, as docs/responses-api.md tells users to (the
 * gateway refuses it by name), and its sub-agent tools (a `namespace` tool) go upstream as flat
 * function tools; passed through, Codex runs with its default settings, and the upstream gets
 * those tools as they are.
 */

const CODEX = new URL('../../node_modules/.bin/codex', import.meta.url).pathname
const run = promisify(execFile)

let upstream: TestUpstream
let gateway: WranglerDev
let apiKey: string
let folder: string

beforeAll(async () => {
  upstream = new TestUpstream()
  const upstreamUrl = await upstream.start()
  apiKey = generateApiKey()
  const models = JSON.parse(testModels(upstreamUrl, undefined, 'ANTHROPIC_KEY')) as Record<string, object>
  models.gpt = { adapter: 'openai', api: 'responses', base_url: upstreamUrl, upstream_model: 'gpt-up', retries: 0 }
  gateway = await startWranglerDev(
    {
      DEFAULT_MODEL: 'demo',
      MODELS: JSON.stringify(models),
      API_KEYS: JSON.stringify({ agent: { sha256: await hashApiKey(apiKey), models: ['*'] } }),
    },
    { ANTHROPIC_KEY: 'sk-ant-test' },
  )
  folder = mkdtempSync(join(tmpdir(), 'codex-e2e-'))
})

afterAll(async () => {
  await gateway?.stop()
  await upstream?.stop()
  if (folder) rmSync(folder, { recursive: true, force: true })
})

/**
 * `codex exec <prompt>` on `model` in the temporary folder, with only the settings docs/ give; its
 * output. `translated`: the model is not served through the Responses API, so Codex's hosted
 * `web_search` is switched off.
 */
async function codex(prompt: string, model: string, { translated = true } = {}): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'codex-home-'))
  writeFileSync(
    join(home, 'config.toml'),
    [
      `model = "${model}"`,
      'model_provider = "gateway"',
      ...(translated ? ['web_search = "disabled"'] : []),
      '',
      '[model_providers.gateway]',
      'name = "gateway"',
      `base_url = "${gateway.url}/v1"`,
      'env_key = "GATEWAY_KEY"',
      'wire_api = "responses"',
      '',
    ].join('\n'),
  )
  try {
    const running = run(CODEX, ['exec', '--skip-git-repo-check', prompt], {
      cwd: folder,
      timeout: 90_000,
      env: { PATH: process.env.PATH, HOME: home, CODEX_HOME: home, GATEWAY_KEY: apiKey },
    })
    // `codex exec` reads more of its prompt from a stdin that is not a terminal, until it ends.
    running.child.stdin?.end()
    const { stdout } = await running
    return stdout
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

describe('Codex through /v1/responses', () => {
  it('gives a plain answer on the demo model', { timeout: 120_000 }, async () => {
    expect(await codex('say hello', 'demo')).toContain("I am the gateway's built-in demo model")
  })

  it(
    'completes a tool loop on an OpenAI-compatible model: a shell command, then its output in the answer',
    {
      timeout: 120_000,
    },
    async () => {
      writeFileSync(join(folder, 'note.txt'), 'pelican-42\n')
      upstream.requests.length = 0
      const answer = await codex('run-command:cat note.txt', 'upstream')
      expect(answer).toContain('tool said:')
      expect(answer).toContain('pelican-42')
      const [first] = upstream.requests.map((r) => r.body)
      expect((first!.tools as Array<{ function: { name: string } }>).map((t) => t.function.name)).toContain(
        'exec_command',
      )
      // Codex's bookkeeping for OpenAI's service, named in the log line rather than sent on.
      expect(first).not.toHaveProperty('client_metadata')
      expect(gateway.logs()).toMatch(/"ignoredFields":\[[^\]]*"client_metadata"/)
    },
  )

  it(
    'completes a tool loop on an Anthropic model, by translation, its sub-agent tools flat upstream',
    {
      timeout: 200_000,
    },
    async () => {
      writeFileSync(join(folder, 'note.txt'), 'heron-7\n')
      upstream.requests.length = 0
      const answer = await codex('run-command:cat note.txt', 'claude')
      expect(answer).toContain('Results:')
      expect(answer).toContain('heron-7')
      const [first] = upstream.requests.map((r) => r.body)
      expect(first).toMatchObject({ model: 'claude-upstream' })
      const names = (first!.tools as Array<{ name: string }>).map((t) => t.name)
      expect(names).toContain('exec_command')
      expect(names).toContain('multi_agent_v1__spawn_agent')

      // A call into the namespace, by its flat name: Codex runs it as its own sub-agent tool (an
      // agent it does not know is its error, not an unknown tool), and its next turn names the
      // call in the namespace, which reaches the upstream flat again.
      upstream.requests.length = 0
      const closed = await codex('call-tool:multi_agent_v1__close_agent {"target":"nobody"}', 'claude')
      expect(closed).toContain('Results:')
      const second = upstream.requests.at(-1)!.body
      const turns = second.messages as Array<{ role: string; content: Array<Record<string, unknown>> | string }>
      const blocks = turns.flatMap((m) => (typeof m.content === 'string' ? [] : m.content))
      expect(blocks.find((b) => b.type === 'tool_use')).toMatchObject({ name: 'multi_agent_v1__close_agent' })
      const result = blocks.find((b) => b.type === 'tool_result')!
      // Codex 0.171.0's own answers: its close_agent parsing the id, not "unsupported call: <name>".
      expect(result.content).not.toMatch(/unsupported call/)
      expect(result.content).toMatch(/invalid agent id nobody/)
    },
  )

  it(
    'completes a tool loop on a model served through the Responses API, by pass-through, with its default settings',
    {
      timeout: 120_000,
    },
    async () => {
      writeFileSync(join(folder, 'note.txt'), 'ibis-9\n')
      upstream.requests.length = 0
      const answer = await codex('run-command:cat note.txt', 'gpt', { translated: false })
      expect(answer).toContain('tool said:')
      expect(answer).toContain('ibis-9')
      const [first, second] = upstream.requests.map((r) => r.body)
      // Codex's own request, as it sent it: its hosted and namespace tools, its bookkeeping.
      expect(first).toMatchObject({ model: 'gpt-up', stream: true, store: false })
      const types = (first!.tools as Array<{ type: string }>).map((t) => t.type)
      expect(types).toEqual(expect.arrayContaining(['function', 'namespace', 'web_search']))
      expect(first).toHaveProperty('client_metadata')
      expect(first).toHaveProperty('prompt_cache_key')
      // The second turn carries the call and its output, in Codex's own items.
      const items = second!.input as Array<{ type?: string; call_id?: string }>
      expect(items.filter((i) => i.type === 'function_call_output').map((i) => i.call_id)).toEqual(['call_up'])
    },
  )
})
