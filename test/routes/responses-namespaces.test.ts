import { afterEach, describe, expect, it, vi } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import app from '../../src/index'
import codexTurn from '../fixtures/agents/codex-first-turn.json'
import { openAI } from '../helpers/upstream'
import { streamEnv } from '../streams/helpers'

/**
 * `namespace` tools through `/v1/responses` translated (an OpenAI-compatible Chat Completions
 * upstream in place of `fetch`): each function goes upstream as a flat tool `<namespace>__<name>`,
 * a call to that name comes back as a call into the namespace (stream, whole body, stored
 * response, input items), and goes upstream flat again in a later turn and a continued chain.
 */

const alice = generateApiKey()

async function keyedEnv() {
  return streamEnv({
    DEFAULT_MODEL: 'gpt',
    MODELS: { gpt: { adapter: 'openai', base_url: 'https://upstream.test/v1', upstream_model: 'gpt-up' } },
    ANONYMOUS_MODELS: 'gpt',
    API_KEYS: { alice: { sha256: await hashApiKey(alice), models: ['*'] } },
  })
}

afterEach(() => vi.restoreAllMocks())

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

async function call(path: string, init: RequestInit & { key?: string } = {}) {
  const { key, ...rest } = init
  const headers = { 'Content-Type': 'application/json', ...(key && { Authorization: `Bearer ${key}` }) }
  return app.request(`http://gateway.test${path}`, { ...rest, headers }, await keyedEnv())
}

const create = (body: object, key?: string) =>
  call('/v1/responses', { method: 'POST', body: JSON.stringify(body), key })

/** Codex's own tools, but its hosted `web_search`, which stays refused on an upstream that cannot search. */
const codexTools = codexTurn.tools.filter((tool) => tool.type !== 'web_search')

const agents = {
  type: 'namespace',
  name: 'agents',
  description: 'Sub-agents.',
  tools: [
    { type: 'function', name: 'spawn', description: 'Start one.', parameters: { type: 'object', properties: {} } },
    { type: 'function', name: 'wait', parameters: { type: 'object', properties: {} } },
  ],
}

/** An upstream that calls `agents__spawn` (or `name`) and records what it was sent. */
function callingUpstream(name = 'agents__spawn'): Json[] {
  const bodies: Json[] = []
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (_, init) => {
    bodies.push(JSON.parse(String(init?.body)) as Json)
    const sse =
      openAI.toolCall(0, '{"task":', 'call_1', name) +
      openAI.toolCall(0, '"x"}') +
      openAI.finish('tool_calls') +
      openAI.usage(3, 2) +
      openAI.done
    return new Response(sse, { headers: { 'Content-Type': 'text/event-stream' } })
  })
  return bodies
}

function events(sse: string): Json[] {
  return sse
    .split('\n\n')
    .filter((block) => block.startsWith('event: '))
    .map((block) => JSON.parse(block.slice(block.indexOf('\ndata: ') + 7)) as Json)
}

async function errorOf(response: Response) {
  expect(response.status).toBe(400)
  return ((await response.json()) as { error: Json }).error
}

const reported = {
  type: 'function_call',
  name: 'spawn',
  namespace: 'agents',
  call_id: 'call_1',
  arguments: '{"task":"x"}',
}

describe('namespace tools, translated', () => {
  it("sends Codex's sub-agent tools upstream flat, beside its function tools", async () => {
    const upstream = callingUpstream()
    const response = await create({ ...codexTurn, model: 'gpt', tools: codexTools })
    expect(response.status).toBe(200)
    const names = (upstream[0]!.tools as Json[]).map((tool) => tool.function.name)
    expect(names).toEqual([
      'exec_command',
      'write_stdin',
      'request_user_input',
      'view_image',
      'multi_agent_v1__close_agent',
      'multi_agent_v1__resume_agent',
      'multi_agent_v1__send_input',
      'multi_agent_v1__spawn_agent',
      'multi_agent_v1__wait_agent',
      'get_goal',
      'create_goal',
      'update_goal',
    ])
    const spawn = (codexTools[4] as { tools: Json[] }).tools[3]!
    expect(upstream[0]!.tools[7].function).toMatchObject({
      description: spawn.description,
      parameters: spawn.parameters,
    })
  })

  it('reports a call to a flat name as a call into its namespace: the whole body and the stream', async () => {
    callingUpstream()
    const whole = (await (await create({ model: 'gpt', input: 'go', store: false, tools: [agents] })).json()) as Json
    expect(whole.output).toEqual([expect.objectContaining({ ...reported, status: 'completed' })])
    expect(whole.tools).toEqual([agents])

    const sse = await (await create({ model: 'gpt', input: 'go', store: false, stream: true, tools: [agents] })).text()
    const all = events(sse)
    const added = all.find((event) => event.type === 'response.output_item.added')!
    expect(added.item).toMatchObject({ type: 'function_call', name: 'spawn', namespace: 'agents' })
    const done = all.find((event) => event.type === 'response.output_item.done')!
    expect(done.item).toMatchObject(reported)
    expect(all.at(-1)!.response.output).toEqual([expect.objectContaining(reported)])
  })

  it('leaves a call to a name outside any namespace as it is', async () => {
    callingUpstream('lookup')
    const tools = [agents, { type: 'function', name: 'lookup', parameters: { type: 'object', properties: {} } }]
    const whole = (await (await create({ model: 'gpt', input: 'go', store: false, tools })).json()) as Json
    expect(whole.output[0].name).toBe('lookup')
    expect(whole.output[0]).not.toHaveProperty('namespace')
  })

  it("sends a later turn's call into a namespace, and a tool_choice into one, upstream flat", async () => {
    const upstream = callingUpstream()
    const input = [
      { role: 'user', content: 'go' },
      { type: 'function_call', call_id: 'call_1', name: 'spawn', namespace: 'agents', arguments: '{}' },
      { type: 'function_call_output', call_id: 'call_1', output: 'spawned' },
    ]
    const tool_choice = { type: 'function', name: 'wait', namespace: 'agents' }
    expect((await create({ model: 'gpt', input, store: false, tools: [agents], tool_choice })).status).toBe(200)
    expect(upstream[0]!.messages[1].tool_calls[0].function.name).toBe('agents__spawn')
    expect(upstream[0]!.tool_choice).toEqual({ type: 'function', function: { name: 'agents__wait' } })
  })

  it('stores the call as reported, replays it so, and continues the chain with the flat name', async () => {
    const upstream = callingUpstream()
    const first = (await (await create({ model: 'gpt', input: 'go', tools: [agents] }, alice)).json()) as Json
    expect(first.output).toEqual([expect.objectContaining(reported)])

    const snapshot = (await (await call(`/v1/responses/${first.id}`, { key: alice })).json()) as Json
    expect(snapshot.output).toEqual([expect.objectContaining(reported)])
    const replay = events(await (await call(`/v1/responses/${first.id}?stream=true`, { key: alice })).text())
    expect(replay.find((event) => event.type === 'response.output_item.done')!.item).toMatchObject(reported)

    const input = [{ type: 'function_call_output', call_id: 'call_1', output: 'spawned' }]
    const second = await create({ model: 'gpt', input, previous_response_id: first.id, tools: [agents] }, alice)
    expect(second.status).toBe(200)
    expect(upstream[1]!.messages[1].tool_calls).toEqual([
      { id: 'call_1', type: 'function', function: { name: 'agents__spawn', arguments: '{"task":"x"}' } },
    ])
    const secondId = ((await second.json()) as Json).id as string
    const items = (await (await call(`/v1/responses/${secondId}/input_items?order=asc`, { key: alice })).json()) as Json
    expect(items.data.find((item: Json) => item.type === 'function_call')).toMatchObject(reported)
  })

  it('refuses, naming the tool, a flat name taken by another tool, too long or invalid, and a custom tool inside', async () => {
    const taken = [agents, { type: 'function', name: 'agents__spawn', parameters: {} }]
    expect(await errorOf(await create({ model: 'gpt', input: 'go', tools: taken }))).toMatchObject({
      code: 'unsupported_parameter',
      param: 'tools.1.name',
      message: expect.stringContaining("'agents__spawn'"),
    })
    const long = { ...agents, name: 'n'.repeat(60) }
    expect(await errorOf(await create({ model: 'gpt', input: 'go', tools: [long] }))).toMatchObject({
      param: 'tools.0.tools.0.name',
      message: expect.stringContaining('at most 64 characters'),
    })
    const spaced = { ...agents, name: 'my agents' }
    expect((await errorOf(await create({ model: 'gpt', input: 'go', tools: [spaced] }))).param).toBe(
      'tools.0.tools.0.name',
    )
    const custom = { ...agents, tools: [...agents.tools, { type: 'custom', name: 'patch' }] }
    expect(await errorOf(await create({ model: 'gpt', input: 'go', tools: [custom] }))).toMatchObject({
      param: 'tools.0.tools.2',
      message: expect.stringContaining('custom tools in a namespace are not carried'),
    })
    expect((await errorOf(await create({ model: 'gpt', input: 'go', tools: [{ type: 'namespace' }] }))).param).toBe(
      'tools.0',
    )
    // Counted before any is read, and again flattened, with the request's other tools.
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ type: 'function', name: `f${i}` }))
    const huge = { type: 'namespace', name: 'big', tools: many(200) }
    expect((await errorOf(await create({ model: 'gpt', input: 'go', tools: [huge] }))).param).toBe('tools.0.tools')
    const two = [
      { ...huge, tools: many(100) },
      { ...huge, name: 'other', tools: many(100) },
    ]
    expect((await errorOf(await create({ model: 'gpt', input: 'go', tools: two }))).param).toBe('tools')
  })

  it("reports a bad function inside a namespace at the caller's path for it", async () => {
    const bad = { ...agents, tools: [agents.tools[0], { type: 'function', name: 'wait', parameters: 'none' }] }
    const error = await errorOf(
      await create({ model: 'gpt', input: 'go', tools: [{ type: 'function', name: 'a' }, bad] }),
    )
    expect(JSON.stringify(error)).toContain('tools.1.tools.1.parameters')
  })
})
