import { afterEach, describe, expect, it, vi } from 'vitest'
import app from '../../src/index'
import { eventsOf } from '../helpers/sse'
import { asEnv } from '../helpers/env'

/**
 * The exact JSON each adapter sends upstream for an image and for tools, captured from the real
 * route (validation, model lookup, adapter) with `fetch` standing in for the provider.
 */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='
const PNG_URL = `data:image/png;base64,${PNG}`

const imageRequest = {
  messages: [
    { role: 'system', content: 'Be brief.' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is in these?' },
        { type: 'image_url', image_url: { url: PNG_URL } },
        { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'low' } },
      ],
    },
  ],
}

const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
      additionalProperties: false,
    },
  },
}

/** A whole tool round: the question, the model's two parallel calls, both results. */
const toolsRequest = {
  messages: [
    { role: 'user', content: 'Weather in Paris and Rome?' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'call_1', content: '{"temp_c":21}' },
    { role: 'tool', tool_call_id: 'call_2', content: 'sunny' },
  ],
  tools: [weather],
  tool_choice: 'required',
}

const MODELS = {
  gpt: { adapter: 'openai', base_url: 'https://api.example.com/v1', upstream_model: 'gpt-4o', api_key_secret: 'KEY' },
  claude: { adapter: 'anthropic', upstream_model: 'claude-sonnet-4-5', api_key_secret: 'KEY', max_tokens: 1024 },
  thinker: {
    adapter: 'anthropic',
    upstream_model: 'claude-sonnet-4-5',
    api_key_secret: 'KEY',
    max_tokens: 8192,
    thinking_budget_tokens: 4096,
  },
  gemini: { adapter: 'gemini', upstream_model: 'gemini-2.5-flash', api_key_secret: 'KEY', include_thoughts: true },
  blind: { adapter: 'openai', base_url: 'https://api.example.com/v1', upstream_model: 'm', vision: false },
  responses: {
    adapter: 'openai',
    api: 'responses',
    base_url: 'https://api.example.com/v1',
    upstream_model: 'gpt-5',
    api_key_secret: 'KEY',
  },
}

const sent: Array<{ url: string; body: unknown }> = []

/**
 * A one-token answer in each provider's stream format. One real event, not an empty stream: an
 * upstream that ends before its first event is retried (the first token decides), and these
 * tests count the requests sent.
 */
const ANSWERS = {
  openai: 'data: {"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n',
  anthropic: [
    'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[],"usage":{"input_tokens":1,"output_tokens":0}}}\n\n',
    'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n',
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"ok"}}\n\n',
    'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
    'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1}}\n\n',
    'event: message_stop\ndata: {"type":"message_stop"}\n\n',
  ].join(''),
  gemini: 'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"ok"}]},"finishReason":"STOP"}]}\n\n',
  responses:
    'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"ok"}\n\nevent: response.completed\ndata: {"type":"response.completed","response":{"status":"completed"}}\n\n',
}

const answerFor = (url: string) =>
  url.includes('anthropic')
    ? ANSWERS.anthropic
    : url.includes('googleapis')
      ? ANSWERS.gemini
      : url.endsWith('/responses')
        ? ANSWERS.responses
        : ANSWERS.openai

/** Stands in for the provider: records the request, answers `answer` (else a one-token stream in its format). */
function provider(answer?: string) {
  sent.length = 0
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    sent.push({ url: String(input), body: JSON.parse(String(init?.body)) })
    const body = answer ?? answerFor(String(input))
    return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } })
  })
}

afterEach(() => void vi.restoreAllMocks())

function post(model: string, body: object) {
  const env = asEnv({
    DEFAULT_MODEL: 'gpt',
    MODELS,
    ANONYMOUS_MODELS: Object.keys(MODELS).join(', '),
    KEY: 'sk-test',
    MAX_BODY_BYTES: '65536',
  })
  return app.request(
    '/api/chat',
    { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ model, ...body }) },
    env,
  )
}

async function upstreamBody(model: string, body: object) {
  provider()
  const response = await post(model, body)
  await response.text()
  expect(sent).toHaveLength(1)
  return sent[0]!.body
}

describe('OpenAI-compatible upstream', () => {
  it('gets the image parts as they came', async () => {
    expect(await upstreamBody('gpt', imageRequest)).toEqual({
      model: 'gpt-4o',
      messages: imageRequest.messages,
      stream: true,
      stream_options: { include_usage: true },
    })
  })

  it('gets tools, tool_choice, parallel_tool_calls, the calls and their results as they came', async () => {
    expect(await upstreamBody('gpt', { ...toolsRequest, parallel_tool_calls: false })).toEqual({
      model: 'gpt-4o',
      messages: toolsRequest.messages,
      stream: true,
      stream_options: { include_usage: true },
      tools: [weather],
      tool_choice: 'required',
      parallel_tool_calls: false,
    })
  })

  it('gets response_format as it came', async () => {
    const format = { type: 'json_schema', json_schema: { name: 'city', schema: { type: 'object' }, strict: true } }
    const body = await upstreamBody('gpt', {
      messages: [{ role: 'user', content: 'A city?' }],
      response_format: format,
    })
    expect(body).toMatchObject({ response_format: format })
  })
})

describe('OpenAI Responses upstream (api = "responses"), for a caller of another API', () => {
  it('gets the system prompt and images as input items, at /responses, storing nothing', async () => {
    provider()
    await (await post('responses', { ...imageRequest, max_tokens: 300, prompt_cache_key: 'k-1' })).text()
    expect(sent[0]!.url).toBe('https://api.example.com/v1/responses')
    expect(sent[0]!.body).toEqual({
      model: 'gpt-5',
      input: [
        { type: 'message', role: 'system', content: 'Be brief.' },
        {
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_text', text: 'What is in these?' },
            { type: 'input_image', image_url: PNG_URL, detail: 'auto' },
            { type: 'input_image', image_url: 'https://example.com/cat.jpg', detail: 'low' },
          ],
        },
      ],
      stream: true,
      store: false,
      max_output_tokens: 300,
      prompt_cache_key: 'k-1',
    })
  })

  it('gets flat function tools, calls as function_call items and results as function_call_output', async () => {
    const format = { type: 'json_schema', json_schema: { name: 'city', schema: { type: 'object' }, strict: true } }
    const body = await upstreamBody('responses', {
      ...toolsRequest,
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      parallel_tool_calls: false,
      reasoning_effort: 'low',
      verbosity: 'high',
      response_format: format,
    })
    expect(body).toEqual({
      model: 'gpt-5',
      input: [
        { type: 'message', role: 'user', content: 'Weather in Paris and Rome?' },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call', call_id: 'call_2', name: 'get_weather', arguments: '{"city":"Rome"}' },
        { type: 'function_call_output', call_id: 'call_1', output: '{"temp_c":21}' },
        { type: 'function_call_output', call_id: 'call_2', output: 'sunny' },
      ],
      stream: true,
      store: false,
      tools: [{ type: 'function', ...weather.function }],
      tool_choice: { type: 'function', name: 'get_weather' },
      parallel_tool_calls: false,
      reasoning: { effort: 'low' },
      text: {
        format: { type: 'json_schema', name: 'city', schema: { type: 'object' }, strict: true },
        verbosity: 'high',
      },
    })
  })

  it('refuses stop sequences, which the Responses API has not, by name', async () => {
    provider()
    const response = await post('responses', { messages: [{ role: 'user', content: 'hi' }], stop: ['\n'] })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: { code: 'unsupported_parameter' } })
    expect(sent).toHaveLength(0)
  })
})

describe('Anthropic upstream', () => {
  it('gets images as base64 and url sources, and the system prompt apart', async () => {
    expect(await upstreamBody('claude', imageRequest)).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      system: 'Be brief.',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
      stream: true,
    })
  })

  it('gets tool_use blocks, both results in one user turn, input_schema, and tool_choice any without parallel calls', async () => {
    expect(await upstreamBody('claude', { ...toolsRequest, parallel_tool_calls: false })).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { city: 'Rome' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_1', content: '{"temp_c":21}' },
            { type: 'tool_result', tool_use_id: 'call_2', content: 'sunny' },
          ],
        },
      ],
      tools: [
        { name: 'get_weather', description: 'Current weather in a city', input_schema: weather.function.parameters },
      ],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      stream: true,
    })
  })

  it('maps a named tool_choice to type tool, and none to none', async () => {
    const named = { type: 'function', function: { name: 'get_weather' } }
    expect(await upstreamBody('claude', { ...toolsRequest, tool_choice: named })).toMatchObject({
      tool_choice: { type: 'tool', name: 'get_weather' },
    })
    expect(await upstreamBody('claude', { ...toolsRequest, tool_choice: 'none' })).toMatchObject({
      tool_choice: { type: 'none' },
    })
  })

  it('turns on extended thinking with the model’s budget', async () => {
    expect(await upstreamBody('thinker', { messages: [{ role: 'user', content: 'Hard sum' }] })).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 8192,
      messages: [{ role: 'user', content: 'Hard sum' }],
      thinking: { type: 'enabled', budget_tokens: 4096 },
      stream: true,
    })
  })
})

describe('Gemini upstream', () => {
  it('gets a data image as inlineData and a URL as fileData, and asks for thoughts', async () => {
    const body = await upstreamBody('gemini', imageRequest)
    expect(body).toEqual({
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'What is in these?' },
            { inlineData: { mimeType: 'image/png', data: PNG } },
            { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
      generationConfig: { thinkingConfig: { includeThoughts: true } },
    })
  })

  it('gets functionDeclarations, functionCall and functionResponse parts by name, and toolConfig ANY', async () => {
    expect(await upstreamBody('gemini', toolsRequest)).toEqual({
      contents: [
        { role: 'user', parts: [{ text: 'Weather in Paris and Rome?' }] },
        {
          role: 'model',
          parts: [
            {
              functionCall: { id: 'call_1', name: 'get_weather', args: { city: 'Paris' } },
              thoughtSignature: 'skip_thought_signature_validator',
            },
            { functionCall: { id: 'call_2', name: 'get_weather', args: { city: 'Rome' } } },
          ],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { id: 'call_1', name: 'get_weather', response: { temp_c: 21 } } },
            { functionResponse: { id: 'call_2', name: 'get_weather', response: { output: 'sunny' } } },
          ],
        },
      ],
      tools: [
        {
          functionDeclarations: [
            {
              name: 'get_weather',
              description: 'Current weather in a city',
              parametersJsonSchema: weather.function.parameters,
            },
          ],
        },
      ],
      toolConfig: { functionCallingConfig: { mode: 'ANY' } },
      generationConfig: { thinkingConfig: { includeThoughts: true } },
    })
  })

  it('maps json_schema to responseMimeType and responseJsonSchema, and a named function to allowedFunctionNames', async () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } } }
    const body = await upstreamBody('gemini', {
      ...toolsRequest,
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      response_format: { type: 'json_schema', json_schema: { name: 'city', schema } },
    })
    expect(body).toMatchObject({
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
      generationConfig: { responseMimeType: 'application/json', responseJsonSchema: schema },
    })
  })
})

describe('refusals before anything is sent upstream', () => {
  async function refusal(model: string, body: object) {
    provider()
    const response = await post(model, body)
    expect(sent).toHaveLength(0)
    return { status: response.status, error: ((await response.json()) as { error: Record<string, unknown> }).error }
  }

  it('400 naming the image part for a model configured without vision', async () => {
    expect(await refusal('blind', imageRequest)).toEqual({
      status: 400,
      error: expect.objectContaining({
        code: 'unsupported_parameter',
        issues: [{ path: 'messages.1.content.1', message: 'model "blind" does not accept images.' }],
      }),
    })
  })

  it('400 for response_format json on Anthropic, which has no equivalent', async () => {
    const { status, error } = await refusal('claude', { ...imageRequest, response_format: { type: 'json_object' } })
    expect(status).toBe(400)
    expect(error).toMatchObject({ code: 'unsupported_parameter', issues: [{ path: 'response_format' }] })
  })

  it('400 for max_tokens at or below an Anthropic model’s thinking budget', async () => {
    const { error } = await refusal('thinker', { messages: [{ role: 'user', content: 'x' }], max_tokens: 4096 })
    expect(error).toMatchObject({ code: 'unsupported_parameter', issues: [{ path: 'max_tokens' }] })
  })

  it('400 for parallel_tool_calls false on Gemini, and for a GIF', async () => {
    expect((await refusal('gemini', { ...toolsRequest, parallel_tool_calls: false })).error).toMatchObject({
      issues: [{ path: 'parallel_tool_calls' }],
    })
    const gif = {
      role: 'user',
      content: [{ type: 'image_url', image_url: { url: 'data:image/gif;base64,R0lGODlhAQABAAAAACw=' } }],
    }
    expect((await refusal('gemini', { messages: [gif] })).error).toMatchObject({
      issues: [{ path: 'messages.0.content.0' }],
    })
  })

  it('400 naming the arguments of a tool call that are not a JSON object, for providers that parse them', async () => {
    const broken = structuredClone(toolsRequest)
    broken.messages[1]!.tool_calls![1]!.function.arguments = '{"city":'
    for (const model of ['claude', 'gemini']) {
      expect((await refusal(model, broken)).error).toMatchObject({
        code: 'invalid_request',
        issues: [{ path: 'messages.1.tool_calls.1.function.arguments' }],
      })
    }
  })
})

describe('answers from the stand-in provider, on our events', () => {
  it('streams an OpenAI-style tool call as tool_call events and done tool_calls', async () => {
    const chunk = (delta: object, finish: string | null = null) =>
      `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
    provider(
      chunk({
        tool_calls: [{ index: 0, id: 'call_9', type: 'function', function: { name: 'get_weather', arguments: '' } }],
      }) +
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":"Oslo"}' } }] }) +
        chunk({}, 'tool_calls') +
        'data: [DONE]\n\n',
    )
    const events = eventsOf(await (await post('gpt', toolsRequest)).text())
    expect(events.map(({ event, data }) => ({ event, data })).slice(1)).toEqual([
      { event: 'tool_call', data: { index: 0, id: 'call_9', name: 'get_weather', arguments_delta: '' } },
      { event: 'tool_call', data: { index: 0, arguments_delta: '{"city":"Oslo"}' } },
      { event: 'done', data: { finish_reason: 'tool_calls' } },
    ])
  })
})

describe('reasoning_effort and verbosity (docs/openai-compatible.md has the table)', () => {
  const hard = { messages: [{ role: 'user', content: 'Hard sum' }] }

  it('go to an OpenAI-compatible upstream as they came', async () => {
    expect(await upstreamBody('gpt', { ...hard, reasoning_effort: 'high', verbosity: 'low' })).toMatchObject({
      reasoning_effort: 'high',
      verbosity: 'low',
    })
  })

  it.each([
    ['low', 2048],
    ['high', 8191], // the table says 16384: held below max_tokens, which the budget counts against
  ] as const)('set an Anthropic thinking budget for %s, over the model’s own', async (effort, budget) => {
    const body = (await upstreamBody('thinker', { ...hard, reasoning_effort: effort, verbosity: 'high' })) as Record<
      string,
      unknown
    >
    expect(body.thinking).toEqual({ type: 'enabled', budget_tokens: budget })
    expect(body).not.toHaveProperty('verbosity')
  })

  it('turn Anthropic thinking off for none, and for a budget that would not fit in max_tokens', async () => {
    expect(await upstreamBody('thinker', { ...hard, reasoning_effort: 'none' })).not.toHaveProperty('thinking')
    expect(await upstreamBody('claude', { ...hard, reasoning_effort: 'medium', max_tokens: 1000 })).not.toHaveProperty(
      'thinking',
    )
  })

  it('set Gemini’s thinking budget', async () => {
    expect(await upstreamBody('gemini', { ...hard, reasoning_effort: 'medium' })).toMatchObject({
      generationConfig: { thinkingConfig: { includeThoughts: true, thinkingBudget: 8192 } },
    })
    expect(await upstreamBody('gemini', { ...hard, reasoning_effort: 'none' })).toMatchObject({
      generationConfig: { thinkingConfig: { thinkingBudget: 0 } },
    })
  })
})
