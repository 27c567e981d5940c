import { createAnthropic } from '@ai-sdk/anthropic'
import Anthropic, { APIError, AuthenticationError } from '@anthropic-ai/sdk'
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { THINKING_SIGNATURE } from './anthropic-upstream'
import { TestUpstream, testModels } from './upstream-server'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * Anthropic's clients, unchanged, pointed at the gateway's `/v1/messages` under `wrangler dev`:
 * the official `@anthropic-ai/sdk` and the AI SDK's `@ai-sdk/anthropic`. `claude` is the test
 * upstream speaking Anthropic's API (replaying the recorded Anthropic streams), `upstream` the
 * same server speaking OpenAI's, `demo` the built-in model.
 */
let upstream: TestUpstream
let gateway: WranglerDev
let client: Anthropic
let apiKey: string

beforeAll(async () => {
  upstream = new TestUpstream()
  const upstreamUrl = await upstream.start()
  apiKey = generateApiKey()
  gateway = await startWranglerDev(
    {
      DEFAULT_MODEL: 'claude',
      MODELS: testModels(upstreamUrl, undefined, 'ANTHROPIC_KEY'),
      API_KEYS: JSON.stringify({ sdk: { sha256: await hashApiKey(apiKey), models: ['*'] } }),
    },
    { ANTHROPIC_KEY: 'sk-ant-upstream' },
  )
  client = new Anthropic({ baseURL: gateway.url, apiKey, maxRetries: 0 })
})

afterAll(async () => {
  await gateway?.stop()
  await upstream?.stop()
})

const weather: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Current weather in a city',
  input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
}
const ask = (content: string, model = 'claude') => ({
  model,
  max_tokens: 1024,
  messages: [{ role: 'user' as const, content }],
})

describe('@anthropic-ai/sdk against /v1/messages', () => {
  it('messages.stream then finalMessage(): the text of a recorded Anthropic stream, stop reason and usage', async () => {
    const deltas: string[] = []
    const stream = client.messages.stream(ask('replay:basic_response.sse')).on('text', (text) => deltas.push(text))
    const message = await stream.finalMessage()
    expect(message.content).toEqual([{ type: 'text', text: 'Hello there!' }])
    expect(deltas).toEqual(['Hello', ' there', '!'])
    expect(message).toMatchObject({
      // Relayed: Anthropic's own stream, its model name as it wrote it.
      model: 'claude-opus-4-8',
      stop_reason: 'end_turn',
      usage: { input_tokens: 11, output_tokens: 6 },
    })
    expect(upstream.requests.at(-1)!.headers['x-api-key']).toBe('sk-ant-upstream')
  })

  it('messages.stream with a tool: its input parsed from input_json_delta pieces, each passed on as it came', async () => {
    const pieces: string[] = []
    const stream = client.messages
      .stream({ ...ask('replay:tool_use_response.sse'), tools: [weather] })
      .on('inputJson', (piece) => pieces.push(piece))
    const message = await stream.finalMessage()
    expect(message.stop_reason).toBe('tool_use')
    expect(message.content).toEqual([
      { type: 'text', text: "I'll check the current weather in Paris for you." },
      { type: 'tool_use', id: 'toolu_01NRLabsLyVHZPKxbKvkfSMn', name: 'get_weather', input: { location: 'Paris' } },
    ])
    // Relayed as Anthropic sent them, its empty first piece included.
    expect(pieces).toEqual(['', '{"locati', 'on": "P', 'ar', 'is"}'])
  })

  it('messages.stream with thinking: the thinking and its signature, then the text', async () => {
    const message = await client.messages
      .stream({ ...ask('thinking'), max_tokens: 4096, thinking: { type: 'enabled', budget_tokens: 2048 } })
      .finalMessage()
    expect(message.content).toEqual([
      { type: 'thinking', thinking: 'Six times seven is 42.', signature: THINKING_SIGNATURE },
      { type: 'text', text: '42' },
    ])
    expect(upstream.requests.at(-1)!.body).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 2048 } })
  })

  it('streams from a model of another provider, its parallel tool calls in blocks of their own', async () => {
    const message = await client.messages.stream({ ...ask('tools', 'upstream'), tools: [weather] }).finalMessage()
    expect(message.content).toEqual([
      { type: 'tool_use', id: 'call_paris', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 'call_rome', name: 'get_weather', input: { city: 'Rome' } },
    ])
    expect(message.stop_reason).toBe('tool_use')
  })

  it('messages.create: the whole message', async () => {
    const message = await client.messages.create(ask('whole answer'))
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: 'echo: whole answer' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 5, output_tokens: 3 },
    })
  })

  it('a tool_result round trip, with the thinking sent back signed', async () => {
    const first = await client.messages.create({ ...ask('replay:tool_use_response.sse'), tools: [weather] })
    const call = first.content.find((block) => block.type === 'tool_use')!
    const thinking = { type: 'thinking' as const, thinking: 'Weather first.', signature: THINKING_SIGNATURE }
    const second = await client.messages.create({
      model: 'claude',
      max_tokens: 1024,
      tools: [weather],
      messages: [
        { role: 'user', content: 'replay:tool_use_response.sse' },
        { role: 'assistant', content: [thinking, ...first.content] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '18°C and sunny' }] },
      ],
    })
    expect(second.content).toEqual([{ type: 'text', text: 'Results: 18°C and sunny' }])
    const sent = upstream.requests.at(-1)!.body as unknown as { messages: Array<{ role: string; content: unknown }> }
    expect(sent.messages.at(-2)!.content).toEqual([thinking, ...first.content])
    expect(sent.messages.at(-1)!.content).toEqual([
      { type: 'tool_result', tool_use_id: call.id, content: '18°C and sunny' },
    ])
  })

  it('count_tokens: Anthropic’s count for an Anthropic model, an estimate for the others', async () => {
    expect(await client.messages.countTokens({ model: 'claude', messages: ask('hi').messages })).toEqual({
      input_tokens: 42,
    })
    const estimate = await client.messages.countTokens({ model: 'demo', messages: ask('hello there').messages })
    expect(estimate.input_tokens).toBeGreaterThan(0)
  })

  it('a bad key raises AuthenticationError', async () => {
    const stranger = new Anthropic({ baseURL: gateway.url, apiKey: generateApiKey(), maxRetries: 0 })
    const error = await stranger.messages.create(ask('hi')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AuthenticationError)
    expect((error as AuthenticationError).requestID).toMatch(/^req_/)
  })

  it('a failure mid-stream raises, never a finished message: overloaded at Anthropic, and a cut OpenAI stream', async () => {
    const overloaded = await client.messages
      .stream(ask('overloaded'))
      .finalMessage()
      .catch((e: unknown) => e)
    expect(overloaded).toBeInstanceOf(APIError)
    expect((overloaded as APIError).type).toBe('overloaded_error')

    const cut = await client.messages
      .stream(ask('truncate', 'upstream'))
      .finalMessage()
      .catch((e: unknown) => e)
    expect(cut).toBeInstanceOf(APIError)
    expect((cut as APIError).type).toBe('api_error')
  })

  it('a refused request raises BadRequestError naming the field', async () => {
    // A server tool, to a model of another family (an Anthropic model would get it as it came).
    const error = await client.messages
      .create({ ...ask('hi', 'upstream'), tools: [{ type: 'web_search_20250305', name: 'web_search' }] })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Anthropic.BadRequestError)
    expect((error as APIError).message).toContain('tools.0.type')
  })
})

describe('@ai-sdk/anthropic with its baseURL at the gateway', () => {
  const provider = () => createAnthropic({ baseURL: `${gateway.url}/v1`, apiKey })

  it('generateText', async () => {
    const result = await generateText({ model: provider()('claude'), prompt: 'generated' })
    expect(result.text).toBe('echo: generated')
    expect(result.finishReason).toBe('stop')
    expect(result.usage).toMatchObject({ inputTokens: 5, outputTokens: 3 })
  })

  it('streamText, from a model of another provider', async () => {
    const result = streamText({ model: provider()('demo'), prompt: 'hi' })
    let text = ''
    for await (const piece of result.textStream) text += piece
    expect(text).toContain('You said: “hi”')
    expect(await result.finishReason).toBe('stop')
  })

  it('a tool loop: the call, its result sent back, the answer', async () => {
    const calls: unknown[] = []
    const result = await generateText({
      model: provider()('claude'),
      prompt: 'replay:tool_use_response.sse',
      tools: {
        get_weather: tool({
          description: 'Current weather in a city',
          inputSchema: jsonSchema<{ location: string }>({
            type: 'object',
            properties: { location: { type: 'string' } },
            required: ['location'],
          }),
          execute: async (input) => {
            calls.push(input)
            return '18°C and sunny'
          },
        }),
      },
      stopWhen: stepCountIs(3),
    })
    expect(calls).toEqual([{ location: 'Paris' }])
    expect(result.steps).toHaveLength(2)
    expect(result.text).toBe('Results: 18°C and sunny')
  })
})
