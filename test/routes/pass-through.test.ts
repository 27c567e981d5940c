import { afterEach, describe, expect, it, vi } from 'vitest'
import app from '../../src/index'
import codexTurn from '../fixtures/agents/codex-first-turn.json'
import { asEnv } from '../helpers/env'

/**
 * Pass-through at the routes (issue 25), `fetch` standing in for the provider: which body reaches
 * a model of the caller's own API, what is still refused there, and that nothing is named ignored.
 * The same through real sockets, the SDKs and Codex: test/e2e/openai-pass-through.test.ts.
 */

const MODELS = {
  chat: {
    adapter: 'openai',
    base_url: 'https://api.example.com/v1',
    upstream_model: 'gpt-4o',
    max_tokens_ceiling: 100,
  },
  gpt: { adapter: 'openai', api: 'responses', base_url: 'https://api.example.com/v1', upstream_model: 'gpt-5' },
}
const env = () => asEnv({ DEFAULT_MODEL: 'chat', MODELS, ANONYMOUS_MODELS: 'chat, gpt', MAX_BODY_BYTES: '262144' })
const request = (path: string, body: unknown) =>
  app.request(
    path,
    { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
    env(),
  )

const sent: Array<{ url: string; body: Record<string, unknown> }> = []
const CHAT = 'data: {"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
const RESPONSES =
  'data: {"type":"response.output_text.delta","delta":"ok"}\n\ndata: {"type":"response.completed","response":{}}\n\n'

function provider() {
  sent.length = 0
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    sent.push({ url: String(input), body: JSON.parse(String(init?.body)) })
    const body = String(input).endsWith('/responses') ? RESPONSES : CHAT
    return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } })
  })
}

afterEach(() => void vi.restoreAllMocks())

describe('/v1/responses to a model served through the Responses API', () => {
  it("sends Codex's recorded request as it is: namespace and web_search tools, items with ids, bookkeeping", async () => {
    provider()
    const response = await request('/v1/responses', { ...codexTurn, model: 'gpt' })
    expect(response.status).toBe(200)
    await response.text()
    expect(response.headers.get('X-Gateway-Ignored')).toBeNull()
    expect(sent).toEqual([{ url: 'https://api.example.com/v1/responses', body: { ...codexTurn, model: 'gpt-5' } }])
  })

  it('takes what a translation refuses (truncation, prompt templates, file parts, unknown items)', async () => {
    provider()
    const body = {
      model: 'gpt',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'read this' },
            { type: 'input_file', file_id: 'f1' },
          ],
        },
        { type: 'custom_tool_call', call_id: 'c1', name: 'apply_patch', input: '*** Begin Patch' },
        { type: 'custom_tool_call_output', call_id: 'c1', output: 'done' },
      ],
      tools: [
        { type: 'custom', name: 'apply_patch' },
        { type: 'file_search', vector_store_ids: ['vs_1'] },
      ],
      tool_choice: { type: 'web_search' },
      truncation: 'auto',
      max_tool_calls: 3,
      stream: true,
    }
    const response = await request('/v1/responses', body)
    expect(response.status).toBe(200)
    await response.text()
    expect(sent[0]!.body).toEqual({ ...body, model: 'gpt-5', store: false })
  })

  it('still refuses what the answer could not carry back, naming it', async () => {
    provider()
    const response = await request('/v1/responses', { model: 'gpt', input: 'hi', top_logprobs: 5 })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: { code: 'unsupported_parameter', param: 'top_logprobs' } })
    expect(sent).toHaveLength(0)
  })
})

describe('/v1/chat/completions to a Chat Completions model', () => {
  it('sets the max-tokens field the caller used to what admission allowed, keeping unknown fields', async () => {
    provider()
    const body = { model: 'chat', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5000, seed: 7, extra: [1] }
    await (await request('/v1/chat/completions', body)).text()
    expect(sent[0]!.body).toEqual({
      ...body,
      model: 'gpt-4o',
      max_tokens: 100,
      stream: true,
      stream_options: { include_usage: true },
    })
  })

  it('takes audio and file parts, penalties and logit_bias; refuses n: 3 and logprobs', async () => {
    provider()
    const parts = [
      { type: 'text', text: 'Transcribe' },
      { type: 'input_audio', input_audio: { data: 'UklGR', format: 'wav' } },
    ]
    const body = {
      model: 'chat',
      messages: [{ role: 'user', content: parts }],
      presence_penalty: 1,
      logit_bias: { 1: 2 },
    }
    const response = await request('/v1/chat/completions', body)
    expect(response.status).toBe(200)
    await response.text()
    expect(sent[0]!.body).toMatchObject({ messages: body.messages, presence_penalty: 1, logit_bias: { 1: 2 } })
    for (const refused of [{ n: 3 }, { logprobs: true }]) {
      const answer = await request('/v1/chat/completions', {
        model: 'chat',
        messages: [{ role: 'user', content: 'x' }],
        ...refused,
      })
      expect(answer.status).toBe(400)
      expect(await answer.json()).toMatchObject({ error: { param: Object.keys(refused)[0] } })
    }
    expect(sent).toHaveLength(1)
  })
})

describe('idle tool fields on pass-through', () => {
  it('are left out of the body sent on and named in X-Gateway-Ignored, never dropped unnamed', async () => {
    for (const [path, model] of [
      ['/v1/chat/completions', 'chat'],
      ['/v1/responses', 'gpt'],
    ] as const) {
      provider()
      const input = path === '/v1/responses' ? { input: 'hi' } : { messages: [{ role: 'user', content: 'hi' }] }
      const response = await request(path, { model, ...input, tools: [], tool_choice: 'auto' })
      expect(response.status).toBe(200)
      await response.text()
      expect(response.headers.get('X-Gateway-Ignored')).toBe('tools, tool_choice')
      expect(sent[0]!.body).not.toHaveProperty('tools')
      expect(sent[0]!.body).not.toHaveProperty('tool_choice')
    }
  })
})
