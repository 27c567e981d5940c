import { createOpenAI } from '@ai-sdk/openai'
import { Agent, run, setDefaultOpenAIClient, setTracingDisabled, tool as agentTool } from '@openai/agents'
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { TestUpstream, testModels } from './upstream-server'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * The clients whose default path is the Responses API, unchanged, against the gateway under
 * `wrangler dev`: the AI SDK's `createOpenAI(...)(model)` and the OpenAI Agents SDK's `run()`.
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
    MODELS: testModels(upstreamUrl),
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
