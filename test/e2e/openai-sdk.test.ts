import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { TestUpstream, testModels } from './upstream-server'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/** The official `openai` SDK, unchanged, pointed at the gateway's `/v1` under `wrangler dev`. */
let upstream: TestUpstream
let gateway: WranglerDev
let client: OpenAI

beforeAll(async () => {
  upstream = new TestUpstream()
  const upstreamUrl = await upstream.start()
  // The SDK always sends a key, and the gateway refuses one it does not know: give it a real one.
  const apiKey = generateApiKey()
  gateway = await startWranglerDev({
    DEFAULT_MODEL: 'upstream',
    MODELS: testModels(upstreamUrl),
    API_KEYS: JSON.stringify({ sdk: { sha256: await hashApiKey(apiKey), models: ['*'] } }),
  })
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 })
})

afterAll(async () => {
  await gateway?.stop()
  await upstream?.stop()
})

const ask = (content: string, model = 'upstream') => ({ model, messages: [{ role: 'user' as const, content }] })

describe('the openai SDK against /v1', () => {
  it('lists the configured models', async () => {
    const models = await client.models.list()
    expect(models.data.map((m) => m.id).sort()).toEqual(['demo', 'upstream'])
  })

  it('streams chat.completion.chunk events, then a usage chunk when asked for', async () => {
    const stream = await client.chat.completions.create({
      ...ask('hello sdk'),
      stream: true,
      stream_options: { include_usage: true },
    })
    let text = ''
    const chunks = []
    for await (const chunk of stream) {
      chunks.push(chunk)
      text += chunk.choices[0]?.delta?.content ?? ''
    }
    expect(text).toBe('echo: hello sdk')
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'stop')).toBe(true)
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
    })
  })

  it('streams a recorded upstream answer whole', async () => {
    const stream = await client.chat.completions.create({ ...ask('replay:stream-works-1.sse'), stream: true })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
    expect(text.length).toBeGreaterThan(20)
  })

  it('streams the demo model, which no upstream serves', async () => {
    const stream = await client.chat.completions.create({ ...ask('hi', 'demo'), stream: true })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
    expect(text).toContain('You said: “hi”')
  })

  it('answers stream: false with one aggregated chat.completion', async () => {
    const completion = await client.chat.completions.create(ask('whole answer'))
    expect(completion.object).toBe('chat.completion')
    expect(completion.choices[0]).toMatchObject({
      message: { role: 'assistant', content: 'echo: whole answer' },
      finish_reason: 'stop',
    })
    expect(completion.usage).toMatchObject({ total_tokens: 8 })
  })

  it.each(['reset', 'truncate', 'malformed'])(
    'raises an error for a %s upstream mid-stream, never a short answer',
    async (scenario) => {
      const stream = await client.chat.completions.create({ ...ask(scenario), stream: true })
      let text = ''
      const reading = (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
      })()
      await expect(reading).rejects.toThrow()
      expect(text.length).toBeGreaterThan(0)
    },
  )

  it('raises an error for a failed non-streaming answer too', async () => {
    await expect(client.chat.completions.create(ask('truncate'))).rejects.toMatchObject({
      status: 502,
      code: 'upstream_truncated',
    })
  })

  it('raises a typed 400 in OpenAI’s error shape for a bad request', async () => {
    const error = await client.chat.completions.create(ask('hi', 'gpt-17')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect(error).toMatchObject({ status: 400, code: 'unknown_model', type: 'invalid_request_error', param: 'model' })
  })

  it('streams parallel tool calls the SDK can assemble, ending with finish_reason tool_calls', async () => {
    const tools = [
      {
        type: 'function' as const,
        function: {
          name: 'get_weather',
          description: 'Current weather in a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ]
    const before = upstream.requests.length
    const stream = await client.chat.completions.create({
      ...ask('tools'),
      tools,
      tool_choice: 'required',
      stream: true,
    })
    const calls: Array<{ id?: string; name?: string; arguments: string }> = []
    let finishReason: string | null | undefined
    for await (const chunk of stream) {
      const choice = chunk.choices[0]
      for (const piece of choice?.delta?.tool_calls ?? []) {
        const call = (calls[piece.index] ??= { arguments: '' })
        call.id ??= piece.id
        call.name ??= piece.function?.name
        call.arguments += piece.function?.arguments ?? ''
      }
      finishReason = choice?.finish_reason ?? finishReason
    }
    expect(finishReason).toBe('tool_calls')
    expect(calls.map((c) => ({ ...c, arguments: JSON.parse(c.arguments) }))).toEqual([
      { id: 'call_paris', name: 'get_weather', arguments: { city: 'Paris' } },
      { id: 'call_rome', name: 'get_weather', arguments: { city: 'Rome' } },
    ])
    // The tools reached the upstream as sent.
    expect(upstream.requests.slice(before).at(-1)!.body).toMatchObject({ tools, tool_choice: 'required' })
  })

  it('assembles the same tool calls with the SDK’s own stream helper, and for stream: false', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object' } } }]
    const runner = client.chat.completions.stream({ ...ask('tools'), tools })
    const final = await runner.finalChatCompletion()
    expect(final.choices[0]!.finish_reason).toBe('tool_calls')
    expect(final.choices[0]!.message.tool_calls?.map((c) => c.type === 'function' && c.function.arguments)).toEqual([
      '{"city": "Paris"}',
      '{"city": "Rome"}',
    ])
    const whole = await client.chat.completions.create({ ...ask('tools'), tools })
    expect(whole.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: { content: null, tool_calls: [{ id: 'call_paris' }, { id: 'call_rome' }] },
    })
  })

  it('streams reasoning_content before the answer, and reasoning tokens in usage', async () => {
    const stream = await client.chat.completions.create({
      ...ask('reasoning'),
      stream: true,
      stream_options: { include_usage: true },
    })
    let reasoning = ''
    let text = ''
    let usage: unknown
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as { content?: string; reasoning_content?: string } | undefined
      reasoning += delta?.reasoning_content ?? ''
      if (delta?.content) {
        expect(reasoning).toBe('The user wants a number. Six times seven is 42.')
        text += delta.content
      }
      usage = chunk.usage ?? usage
    }
    expect(text).toBe('42')
    expect(usage).toMatchObject({ completion_tokens: 20, completion_tokens_details: { reasoning_tokens: 17 } })
  })

  it('refuses n: 3 with a typed 400 naming n, and never calls the upstream', async () => {
    const before = upstream.requests.length
    const error = await client.chat.completions.create({ ...ask('hello'), n: 3 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect(error).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'n' })
    expect(upstream.requests.length).toBe(before)
  })

  it('passes an upstream 429 on as a RateLimitError', async () => {
    const error = await client.chat.completions.create({ ...ask('status:429'), stream: true }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
  })
})
