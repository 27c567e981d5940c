import { createOpenAI } from '@ai-sdk/openai'
import { ChatOpenAI } from '@langchain/openai'
import { Agent, run, setDefaultOpenAIClient, setTracingDisabled, tool as agentTool } from '@openai/agents'
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { TestUpstream, testModels } from './upstream-server'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * The clients whose default path is the Responses API, unchanged, against the gateway under
 * `wrangler dev`: the AI SDK's `createOpenAI(...)(model)`, the OpenAI Agents SDK's `run()` and
 * LangChain's `ChatOpenAI` with `useResponsesApi`.
 */
let upstream: TestUpstream
let gateway: WranglerDev
let apiKey: string

beforeAll(async () => {
  upstream = new TestUpstream()
  const upstreamUrl = await upstream.start()
  apiKey = generateApiKey()
  gateway = await startWranglerDev({
    DEFAULT_MODEL: 'upstream',
    MODELS: JSON.stringify({
      ...(JSON.parse(testModels(upstreamUrl)) as object),
      // As in wrangler.toml: fails after 12 tokens, mid-answer.
      'demo-flaky': { adapter: 'demo', token_delay_ms: 1, fail_after_tokens: 12 },
    }),
    API_KEYS: JSON.stringify({ sdk: { sha256: await hashApiKey(apiKey), models: ['*'] } }),
  })
  setDefaultOpenAIClient(new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 }))
  setTracingDisabled(true)
})

afterAll(async () => {
  await gateway?.stop()
  await upstream?.stop()
})

const cityParameters = {
  type: 'object' as const,
  properties: { city: { type: 'string' as const } },
  required: ['city'],
  additionalProperties: false as const,
}

describe('the AI SDK’s default OpenAI provider (Responses)', () => {
  const model = () => createOpenAI({ baseURL: `${gateway.url}/v1`, apiKey })('upstream')

  it('streams text with streamText', async () => {
    const result = streamText({ model: model(), prompt: 'hello ai sdk', maxRetries: 0 })
    expect(await result.text).toBe('echo: hello ai sdk')
    expect(await result.finishReason).toBe('stop')
    expect((await result.usage).totalTokens).toBe(8)
  })

  it('answers generateText, and runs a tool loop to the model’s answer', async () => {
    expect((await generateText({ model: model(), prompt: 'plain', maxRetries: 0 })).text).toBe('echo: plain')
    const result = await generateText({
      model: model(),
      prompt: 'tools',
      maxRetries: 0,
      stopWhen: stepCountIs(3),
      tools: {
        get_weather: tool({
          description: 'Current weather in a city',
          inputSchema: jsonSchema<{ city: string }>(cityParameters),
          execute: async ({ city }) => `sunny in ${city}`,
        }),
      },
    })
    expect(result.steps[0]!.toolCalls.map((call) => call.input)).toEqual([{ city: 'Paris' }, { city: 'Rome' }])
    expect(result.text).toBe('tool said: sunny in Paris, sunny in Rome')
  })

  it.each(['reset', 'truncate', 'malformed'])(
    'reports a %s upstream as an error, never a finished answer',
    async (scenario) => {
      const errors: unknown[] = []
      const result = streamText({
        model: model(),
        prompt: scenario,
        maxRetries: 0,
        onError: ({ error }) => void errors.push(error),
      })
      const parts: string[] = []
      for await (const part of result.fullStream) parts.push(part.type)
      expect(parts).toContain('error')
      expect(errors.length).toBeGreaterThan(0)
      expect(await result.finishReason).not.toBe('stop')
    },
  )
})

describe('the OpenAI Agents SDK’s default run()', () => {
  const weather = agentTool({
    name: 'get_weather',
    description: 'Current weather in a city',
    parameters: cityParameters,
    strict: true,
    execute: async (input) => `sunny in ${(input as { city: string }).city}`,
  })

  it('runs an agent with a tool to its final output', async () => {
    const agent = new Agent({
      name: 'Weather',
      instructions: 'Answer about weather.',
      model: 'upstream',
      tools: [weather],
    })
    const result = await run(agent, 'tools')
    expect(result.finalOutput).toBe('tool said: sunny in Paris, sunny in Rome')
  })

  it.each(['reset', 'truncate', 'malformed'])('throws for a %s upstream', async (scenario) => {
    const agent = new Agent({ name: 'Plain', model: 'upstream' })
    await expect(run(agent, scenario)).rejects.toThrow()
    await expect(
      run(agent, scenario, { stream: true }).then(async (stream) => {
        for await (const _ of stream) void _
        await stream.completed
        if (stream.error) throw stream.error
      }),
    ).rejects.toThrow()
  })
})

describe('LangChain’s ChatOpenAI with useResponsesApi', () => {
  const chat = (model: string) =>
    new ChatOpenAI({
      model,
      useResponsesApi: true,
      apiKey,
      maxRetries: 0,
      configuration: { baseURL: `${gateway.url}/v1` },
    })

  it('answers, streaming and not', async () => {
    expect((await chat('upstream').invoke('hello langchain')).text).toBe('echo: hello langchain')
    let text = ''
    for await (const chunk of await chat('upstream').stream('hello stream')) text += chunk.text
    expect(text).toBe('echo: hello stream')
  })

  // LangChain reads only `response.completed`/`response.incomplete`: without the `error` event
  // before `response.failed`, it returned the first 12 tokens as a whole answer.
  it('raises for a model that fails mid-answer, streaming and not', async () => {
    await expect(chat('demo-flaky').invoke('hello')).rejects.toThrow()
    const streamed: string[] = []
    await expect(
      (async () => {
        for await (const chunk of await chat('demo-flaky').stream('hello')) streamed.push(chunk.text)
      })(),
    ).rejects.toThrow()
    expect(streamed.join('').length).toBeGreaterThan(0) // it did fail mid-answer
  })
})
