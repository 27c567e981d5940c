import { afterEach, describe, expect, it, vi } from 'vitest'
import app from '../../src/index'
import { asEnv } from '../helpers/env'

const MODELS = {
  demo: { adapter: 'demo', token_delay_ms: 0 },
  gpt: { adapter: 'openai', base_url: 'https://api.example.com/v1', upstream_model: 'gpt-4o' },
}
const environment = (): Env => asEnv({ DEFAULT_MODEL: 'demo', MODELS, ANONYMOUS_MODELS: 'demo, gpt' })

const completions = (body: unknown) =>
  app.request(
    '/v1/chat/completions',
    { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
    environment(),
  )

const hi = { model: 'demo', messages: [{ role: 'user', content: 'hi' }] }

async function openAIError(response: Response) {
  expect(response.status).toBe(400)
  return ((await response.json()) as { error: { message: string; type: string; param: string; code: string } }).error
}

describe('/v1 refuses what it cannot carry, naming the field', () => {
  it.each([
    ['n', { n: 3 }],
    ['logprobs', { logprobs: true }],
    ['top_logprobs', { top_logprobs: 5 }],
    ['audio', { audio: { voice: 'alloy', format: 'wav' } }],
    ['modalities', { modalities: ['text', 'audio'] }],
    ['logit_bias', { logit_bias: { '50256': -100 } }],
    ['presence_penalty', { presence_penalty: 0.5 }],
    ['functions', { functions: [{ name: 'f' }] }],
  ])('400 unsupported_parameter with param %s', async (param, extra) => {
    expect(await openAIError(await completions({ ...hi, ...extra }))).toMatchObject({
      type: 'invalid_request_error',
      code: 'unsupported_parameter',
      param,
      message: expect.stringMatching(new RegExp(`^${param}: `)),
    })
  })

  it('accepts those fields at their defaults, and ignores harmless metadata, naming it', async () => {
    const response = await completions({
      ...hi,
      n: 1,
      logprobs: false,
      modalities: ['text'],
      presence_penalty: 0,
      user: 'u-1',
      metadata: { team: 'a' },
      store: false,
      service_tier: 'auto',
      seed: 7,
      safety_identifier: 'x',
      prompt_cache_key: 'k',
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('X-Gateway-Ignored')).toBe(
      'user, metadata, store, service_tier, seed, safety_identifier',
    )
    expect(((await response.json()) as { object: string }).object).toBe('chat.completion')
  })

  it('ignores a field it does not know, and a draft prediction, naming them rather than refusing', async () => {
    const response = await completions({ ...hi, top_k: 40, prediction: { type: 'content', content: 'x' } })
    expect(response.status).toBe(200)
    expect(response.headers.get('X-Gateway-Ignored')).toBe('top_k, prediction')
  })

  it('refuses audio and file parts and names them', async () => {
    const message = {
      role: 'user',
      content: [
        { type: 'text', text: 'Transcribe' },
        { type: 'input_audio', input_audio: { data: 'UklGR', format: 'wav' } },
      ],
    }
    expect(await openAIError(await completions({ model: 'demo', messages: [message] }))).toMatchObject({
      code: 'unsupported_parameter',
      param: 'messages.0.content.1',
    })
  })

  it('carries image parts and a message name (dropped), with developer as system', async () => {
    const response = await completions({
      model: 'demo',
      messages: [
        { role: 'developer', content: 'Be kind.' },
        {
          role: 'user',
          name: 'ada',
          content: [
            { type: 'text', text: 'See' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'high' } },
          ],
        },
      ],
    })
    const completion = (await response.json()) as { choices: Array<{ message: { content: string } }> }
    expect(completion.choices[0]!.message.content).toContain('You said: “See”. You attached 1 image')
  })
})

describe('/v1 answers with tool calls and reasoning', () => {
  afterEach(() => void vi.restoreAllMocks())

  const delta = (d: object, finish_reason: string | null = null) =>
    `data: ${JSON.stringify({ choices: [{ index: 0, delta: d, finish_reason }] })}\n\n`
  const answer =
    delta({ reasoning_content: 'Two cities.' }) +
    delta({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'w', arguments: '' } }] }) +
    delta({ tool_calls: [{ index: 0, function: { arguments: '{"c":"Paris"}' } }] }) +
    delta({
      tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'w', arguments: '{"c":"Rome"}' } }],
    }) +
    delta({}, 'tool_calls') +
    `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 30, total_tokens: 39, completion_tokens_details: { reasoning_tokens: 12 } } })}\n\n` +
    'data: [DONE]\n\n'
  const ask = {
    model: 'gpt',
    messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }],
    tools: [{ type: 'function', function: { name: 'w', parameters: { type: 'object' } } }],
  }

  function upstream() {
    vi.spyOn(globalThis, 'fetch').mockImplementation(
      async () => new Response(answer, { headers: { 'Content-Type': 'text/event-stream' } }),
    )
  }

  it('streams OpenAI’s tool_calls deltas, reasoning_content, finish_reason tool_calls and reasoning tokens', async () => {
    upstream()
    const response = await completions({ ...ask, stream: true, stream_options: { include_usage: true } })
    const chunks = (await response.text())
      .split('\n\n')
      .filter((line) => line.startsWith('data: {'))
      .map((line) => JSON.parse(line.slice(6)))
    expect(chunks.map((c) => c.choices[0]?.delta ?? c.usage)).toEqual([
      { role: 'assistant', content: null },
      { reasoning_content: 'Two cities.' },
      { tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'w', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"c":"Paris"}' } }] },
      {
        tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'w', arguments: '{"c":"Rome"}' } }],
      },
      {},
      {
        prompt_tokens: 9,
        completion_tokens: 30,
        total_tokens: 39,
        completion_tokens_details: { reasoning_tokens: 12 },
      },
    ])
    expect(chunks[5].choices[0].finish_reason).toBe('tool_calls')
  })

  it('aggregates them for stream: false into message.tool_calls and reasoning_content, content null', async () => {
    upstream()
    const completion = (await (await completions(ask)).json()) as Record<string, unknown>
    expect(completion).toMatchObject({
      choices: [
        {
          message: {
            role: 'assistant',
            content: null,
            reasoning_content: 'Two cities.',
            tool_calls: [
              { id: 'call_a', type: 'function', function: { name: 'w', arguments: '{"c":"Paris"}' } },
              { id: 'call_b', type: 'function', function: { name: 'w', arguments: '{"c":"Rome"}' } },
            ],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { completion_tokens_details: { reasoning_tokens: 12 } },
    })
  })
})
