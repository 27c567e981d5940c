import { afterEach, describe, expect, it, vi } from 'vitest'
import app from '../../src/index'
import { FIELD_RULES } from '../../src/dialects/fields'
import firstTurn from '../fixtures/agents/claude-code-first-turn.json'
import codexTurn from '../fixtures/agents/codex-first-turn.json'
import toolResultTurn from '../fixtures/agents/claude-code-tool-result.json'
import { asEnv } from '../helpers/env'

/**
 * Claude Code's real requests (recorded, see test/fixtures/agents/README.md) through
 * `/v1/messages` to a model of another family: each field carried, mapped, ignored and named in
 * `X-Gateway-Ignored`, or refused; and the other surfaces' tool fields with nothing to act on.
 */

const MODELS = {
  demo: { adapter: 'demo', token_delay_ms: 0 },
  gpt: { adapter: 'openai', base_url: 'https://api.example.com/v1', upstream_model: 'gpt-4o' },
}
const environment = (): Env =>
  asEnv({ DEFAULT_MODEL: 'demo', MODELS, ANONYMOUS_MODELS: 'demo, gpt', MAX_BODY_BYTES: '262144' })

const request = (path: string, body: unknown) =>
  app.request(
    path,
    { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
    environment(),
  )

type Body = Record<string, unknown> & { messages: Array<{ role: string }> }
const sent: Body[] = []

/** Stands in for the OpenAI-compatible upstream: records each request and answers `ok`. */
function upstream() {
  sent.length = 0
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (_input, init) => {
    sent.push(JSON.parse(String(init?.body)) as Body)
    const chunks = [
      { choices: [{ index: 0, delta: { content: 'ok' }, finish_reason: null }] },
      { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
    ]
    const sse = chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n'
    return new Response(sse, { headers: { 'Content-Type': 'text/event-stream' } })
  })
}

afterEach(() => void vi.restoreAllMocks())

const ignoredOf = (response: Response) => response.headers.get('X-Gateway-Ignored')?.split(', ') ?? []

describe("Claude Code's requests on /v1/messages", () => {
  it('knows every top-level field Claude Code sends, and sorts each as the docs say', () => {
    const sorted = Object.fromEntries(
      Object.keys(firstTurn).map((field) => [field, FIELD_RULES[field]?.messages?.kind]),
    )
    expect(sorted).toEqual({
      model: 'carried',
      messages: 'mapped',
      system: 'mapped',
      tools: 'carried',
      metadata: 'ignored',
      max_tokens: 'carried',
      thinking: 'mapped',
      context_management: 'ignored',
      output_config: 'mapped',
      stream: 'carried',
    })
  })

  it('carries and maps the first turn to an OpenAI-compatible model, naming what it drops', async () => {
    upstream()
    const response = await request('/v1/messages', { ...firstTurn, model: 'gpt' })
    expect(response.status).toBe(200)
    expect(await response.text()).toContain('"text":"ok"')
    expect(ignoredOf(response).sort()).toEqual(
      ['cache_control', 'context_management', 'defer_loading', 'metadata', 'thinking.display'].sort(),
    )
    const [body] = sent
    // output_config.effort is the upstream's reasoning setting; adaptive thinking leaves the rest to the model.
    expect(body).toMatchObject({ model: 'gpt-4o', reasoning_effort: 'high', max_tokens: 32000, stream: true })
    for (const field of ['thinking', 'context_management', 'metadata', 'output_config'])
      expect(body).not.toHaveProperty(field)
    // Three system blocks, the user's two-block turn, then the system message where Claude Code put it.
    expect(body!.messages.map((m) => m.role)).toEqual(['system', 'system', 'system', 'user', 'system'])
    expect(JSON.stringify(body!.messages[4])).toContain('# Environment')
    expect(JSON.stringify(body!.messages)).not.toContain('cache_control')
    const tools = body!.tools as Array<{ type: string; function: { name: string } }>
    expect(tools.map((t) => t.function.name)).toEqual(firstTurn.tools.map((t) => t.name))
    expect(tools.every((t) => t.type === 'function')).toBe(true)
  })

  it('carries the tool loop: the Read call and its result reach the upstream', async () => {
    upstream()
    const response = await request('/v1/messages', { ...toolResultTurn, model: 'gpt' })
    expect(response.status).toBe(200)
    const [body] = sent
    expect(body!.messages.slice(-2)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'toolu_1',
            type: 'function',
            function: { name: 'Read', arguments: JSON.stringify({ file_path: '/tmp/cc/work/note.txt' }) },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: '1\tpelican-42\n2\t' },
    ])
  })

  it('answers it in text on the demo model, tools and all', async () => {
    const response = await request('/v1/messages', { ...firstTurn, stream: false })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ type: 'message', content: [{ type: 'text' }] })
    expect(ignoredOf(response)).toContain('context_management')
  })

  it('refuses a hosted tool by name: dropped, the model would answer as if it had searched', async () => {
    const tools = [...firstTurn.tools, { type: 'web_search_20250305', name: 'web_search', max_uses: 3 }]
    const response = await request('/v1/messages', { ...firstTurn, tools })
    expect(response.status).toBe(400)
    const { error } = (await response.json()) as { error: { message: string } }
    expect(error.message).toMatch(/^tools\.12\.type: 'web_search_20250305' is a server tool/)
  })

  it('names fields safely: control and non-Latin-1 characters replaced, past 32 names only counted', async () => {
    const odd = { 'a\r\nSet-Cookie: x': 1, 'ü—✓': 2 }
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`extra_${i}`, i]))
    const response = await request('/v1/messages', { ...firstTurn, stream: false, ...odd, ...many })
    expect(response.status).toBe(200)
    const named = ignoredOf(response)
    expect(named).toContain('a??Set-Cookie:?x')
    expect(named).toContain('???')
    expect(named).toHaveLength(33)
    expect(named.at(-1)).toMatch(/^and \d+ more$/)
  })

  it('ignores and names a field the gateway has never heard of', async () => {
    const response = await request('/v1/messages', { ...firstTurn, stream: false, speculative_field: { x: 1 } })
    expect(response.status).toBe(200)
    expect(ignoredOf(response)).toContain('speculative_field')
  })
})

describe('tools with nothing to act on are accepted on every surface', () => {
  const hi = [{ role: 'user', content: 'hi' }]
  it.each([
    ['/v1/responses', { model: 'gpt', input: 'hi', store: false, tools: [], tool_choice: 'required' }],
    ['/v1/messages', { model: 'gpt', max_tokens: 10, messages: hi, tools: [], tool_choice: { type: 'auto' } }],
  ])('%s: no tools upstream, and the tool_choice named as ignored', async (path, body) => {
    upstream()
    const response = await request(path, body)
    expect(response.status).toBe(200)
    expect(ignoredOf(response)).toContain('tool_choice')
    expect(sent[0]).not.toHaveProperty('tools')
    expect(sent[0]).not.toHaveProperty('tool_choice')
  })

  it('/v1/chat/completions passed through to a Chat Completions model: no tools upstream either', async () => {
    upstream()
    const response = await request('/v1/chat/completions', {
      model: 'gpt',
      messages: hi,
      tools: [],
      tool_choice: 'auto',
      parallel_tool_calls: false,
    })
    expect(response.status).toBe(200)
    expect(sent[0]).toEqual({ model: 'gpt-4o', messages: hi, stream: true, stream_options: { include_usage: true } })
  })

  it('the demo model takes tools: [] as well', async () => {
    const response = await request('/v1/chat/completions', { model: 'demo', messages: hi, tools: [] })
    expect(response.status).toBe(200)
  })
})

describe("Codex's request on /v1/responses", () => {
  it('knows every top-level field Codex sends, and sorts each as the docs say', () => {
    const sorted = Object.fromEntries(
      Object.keys(codexTurn).map((field) => [field, FIELD_RULES[field]?.responses?.kind]),
    )
    expect(sorted).toEqual({
      model: 'carried',
      stream: 'carried',
      input: 'mapped',
      tools: 'carried',
      tool_choice: 'carried',
      parallel_tool_calls: 'carried',
      reasoning: 'mapped',
      store: 'carried',
      include: 'ignored',
      prompt_cache_key: 'carried',
      client_metadata: 'ignored',
    })
  })

  it('refuses its web_search tool by name, unless switched off in its config', async () => {
    const response = await request('/v1/responses', { ...codexTurn, model: 'gpt' })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({
      error: { param: 'tools.8.type', message: expect.stringContaining('web_search tools are not carried') },
    })
  })

  it('carries the rest with it off: developer messages as system, function and namespace tools, bookkeeping named', async () => {
    upstream()
    const tools = codexTurn.tools.filter((tool) => tool.type !== 'web_search')
    const response = await request('/v1/responses', { ...codexTurn, model: 'gpt', tools })
    expect(response.status).toBe(200)
    expect(ignoredOf(response)).toEqual(['include', 'client_metadata'])
    const [body] = sent
    // OpenAI's prompt cache key reaches an OpenAI-compatible upstream, even translated.
    expect(body!.prompt_cache_key).toBe(codexTurn.prompt_cache_key)
    expect(body!.messages.map((m) => m.role)).toEqual(['system', 'system', 'user', 'user'])
    // The namespace's five sub-agent functions, each a flat tool (test/routes/responses-namespaces.test.ts).
    expect((body!.tools as unknown[]).length).toBe(tools.length - 1 + 5)
  })

  it('ignores and names client_metadata and include in any request', async () => {
    upstream()
    const response = await request('/v1/responses', {
      model: 'gpt',
      input: 'hi',
      store: false,
      client_metadata: { originator: 'codex_exec' },
      include: ['reasoning.encrypted_content'],
      prompt_cache_key: 'k',
    })
    expect(response.status).toBe(200)
    expect(ignoredOf(response)).toEqual(['client_metadata', 'include'])
  })

  it('refuses web_search by name', async () => {
    const response = await request('/v1/responses', { model: 'gpt', input: 'hi', tools: [{ type: 'web_search' }] })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: { param: 'tools.0.type' } })
  })
})
