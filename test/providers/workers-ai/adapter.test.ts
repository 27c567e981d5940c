import { describe, expect, it } from 'vitest'
import app from '../../../src/index'
import { eventsOf } from '../../helpers/sse'
import { random, randomOffsets, splitAt } from '../../helpers/split'
import { asEnv } from '../../helpers/env'

/**
 * Workers AI needs Cloudflare's network, so the AI binding is a stand-in that answers like the
 * real one: a ReadableStream of SSE bytes in either of its shapes, sent in arbitrary pieces.
 */
function standIn(body: string, seen: Array<{ model: string; inputs: Record<string, unknown> }> = []) {
  return {
    async run(model: string, inputs: Record<string, unknown>) {
      seen.push({ model, inputs })
      const bytes = new TextEncoder().encode(body)
      const pieces = splitAt(bytes, randomOffsets(bytes.length, 12, random(body.length)))
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          const piece = pieces.shift()
          if (piece) controller.enqueue(piece)
          else controller.close()
        },
      })
    },
  }
}

const classic =
  ['Hello', ' from', ' Llama ', '🦙']
    .map((response) => `data: {"response":${JSON.stringify(response)},"p":"abcdef"}\n\n`)
    .join('') +
  'data: {"response":"","usage":{"prompt_tokens":12,"completion_tokens":4,"total_tokens":16}}\n\n' +
  'data: [DONE]\n\n'

const openAIStyle =
  ['Hello', ' again']
    .map((content) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`)
    .join('') +
  `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'length' }], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } })}\n\n` +
  'data: [DONE]\n\n'

function env(ai: unknown): Env {
  return asEnv({
    DEFAULT_MODEL: 'llama',
    MODELS: { llama: { adapter: 'workers-ai', upstream_model: '@cf/meta/llama-3.1-8b-instruct' } },
    ANONYMOUS_MODELS: 'llama',
    AI: ai,
  })
}

async function chat(environment: Env) {
  const response = await app.request(
    '/api/chat',
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 50 }),
    },
    environment,
  )
  return { response, events: response.status === 200 ? eventsOf(await response.text()) : [] }
}

const textOf = (events: Array<{ event?: string; data: unknown }>) =>
  events
    .filter((e) => e.event === 'delta')
    .map((e) => (e.data as { text: string }).text)
    .join('')

describe('Workers AI adapter (through a stand-in AI binding)', () => {
  it('streams the classic {"response"} shape, with usage, to done', async () => {
    const seen: Array<{ model: string; inputs: Record<string, unknown> }> = []
    const { events } = await chat(env(standIn(classic, seen)))
    expect(seen[0]).toMatchObject({ model: '@cf/meta/llama-3.1-8b-instruct', inputs: { stream: true, max_tokens: 50 } })
    expect(textOf(events)).toBe('Hello from Llama 🦙')
    expect(events.slice(-2).map((e) => e.event)).toEqual(['usage', 'done'])
    expect(events.at(-2)!.data).toEqual({ prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 })
  })

  it('streams the OpenAI-style shape, with its finish reason', async () => {
    const { events } = await chat(env(standIn(openAIStyle)))
    expect(textOf(events)).toBe('Hello again')
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { finish_reason: 'length' } })
  })

  it('ends a stream without [DONE] with upstream_truncated', async () => {
    const { events } = await chat(env(standIn(classic.slice(0, classic.indexOf('data: [DONE]')))))
    expect(events.at(-1)).toMatchObject({ event: 'error', data: { code: 'upstream_truncated' } })
  })

  it('turns a failing run into a 502, and a missing binding into a 503', async () => {
    const failing = { run: () => Promise.reject(new Error('3040: Capacity temporarily exceeded')) }
    const { response } = await chat(env(failing))
    expect(response.status).toBe(502)
    expect(await response.text()).not.toContain('3040')
    expect((await chat(env(undefined))).response.status).toBe(503)
  })
})

describe('Workers AI: tools, images and reasoning (through the stand-in binding)', () => {
  const models = {
    llama: { adapter: 'workers-ai', upstream_model: '@cf/meta/llama-3.1-8b-instruct' },
    scout: { adapter: 'workers-ai', upstream_model: '@cf/meta/llama-4-scout-17b-16e-instruct', tools: true },
  }
  const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }]

  async function send(model: string, body: object, ai: unknown) {
    const response = await app.request(
      '/api/chat',
      { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ model, ...body }) },
      { DEFAULT_MODEL: 'llama', MODELS: models, ANONYMOUS_MODELS: 'llama, scout', AI: ai },
    )
    return { response, events: response.status === 200 ? eventsOf(await response.text()) : [] }
  }

  const toolEvents = (events: Array<{ event?: string; data: unknown }>) =>
    events.filter((e) => e.event === 'tool_call').map((e) => e.data)

  it('sends tools and an image (text-only content as a string) to a model configured for tools', async () => {
    const seen: Array<{ model: string; inputs: Record<string, unknown> }> = []
    const image = { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }
    const messages = [
      { role: 'system', content: [{ type: 'text', text: 'Be brief.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Weather here?' }, image] },
    ]
    await send('scout', { messages, tools, tool_choice: 'auto' }, standIn(openAIStyle, seen))
    expect(seen[0]!.inputs).toEqual({
      messages: [{ role: 'system', content: 'Be brief.' }, messages[1]],
      stream: true,
      tools,
      tool_choice: 'auto',
    })
  })

  it('streams the classic shape’s whole tool calls as tool_call events, then done tool_calls', async () => {
    const classicCalls =
      'data: {"response":"","tool_calls":[{"name":"get_weather","arguments":{"city":"Paris"}}]}\n\n' +
      'data: {"response":"","tool_calls":[{"name":"get_weather","arguments":{"city":"Rome"}}]}\n\n' +
      'data: [DONE]\n\n'
    const { events } = await send(
      'scout',
      { messages: [{ role: 'user', content: 'hi' }], tools },
      standIn(classicCalls),
    )
    expect(toolEvents(events)).toEqual([
      { index: 0, id: expect.stringMatching(/^call_/), name: 'get_weather', arguments_delta: '{"city":"Paris"}' },
      { index: 1, id: expect.stringMatching(/^call_/), name: 'get_weather', arguments_delta: '{"city":"Rome"}' },
    ])
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { finish_reason: 'tool_calls' } })
  })

  it('streams the OpenAI-style shape’s reasoning and tool call pieces', async () => {
    const delta = (d: object, finish_reason: string | null = null) =>
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: d, finish_reason }] })}\n\n`
    const body =
      delta({ reasoning_content: 'Need the weather.' }) +
      delta({
        tool_calls: [
          { index: 0, id: 'chatcmpl-tool-1', type: 'function', function: { name: 'get_weather', arguments: '' } },
        ],
      }) +
      delta({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }) +
      delta({ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }) +
      delta({}, 'tool_calls') +
      'data: [DONE]\n\n'
    const { events } = await send('scout', { messages: [{ role: 'user', content: 'hi' }], tools }, standIn(body))
    expect(events.find((e) => e.event === 'reasoning')?.data).toEqual({ text: 'Need the weather.' })
    expect(toolEvents(events)).toEqual([
      { index: 0, id: 'chatcmpl-tool-1', name: 'get_weather', arguments_delta: '' },
      { index: 0, arguments_delta: '{"city":' },
      { index: 0, arguments_delta: '"Oslo"}' },
    ])
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { finish_reason: 'tool_calls' } })
  })

  it('400 for tools on a model not configured for them, and for an https image, before running anything', async () => {
    const seen: Array<{ model: string; inputs: Record<string, unknown> }> = []
    const { response } = await send(
      'llama',
      { messages: [{ role: 'user', content: 'hi' }], tools },
      standIn(classic, seen),
    )
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({
      error: { code: 'unsupported_parameter', issues: [{ path: 'tools' }] },
    })
    const url = { type: 'image_url', image_url: { url: 'https://example.com/a.png' } }
    const second = await send('scout', { messages: [{ role: 'user', content: [url] }] }, standIn(classic, seen))
    expect(second.response.status).toBe(400)
    expect(await second.response.json()).toMatchObject({ error: { issues: [{ path: 'messages.0.content.0' }] } })
    expect(seen).toHaveLength(0)
  })
})
