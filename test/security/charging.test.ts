import { abortAllDurableObjects, env as bindings } from 'cloudflare:test'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { estimatePromptTokens } from '../../src/access/estimate'
import type { ChatRequest } from '../../src/request/chat-request'
import { openAI } from '../helpers/upstream'
import { storedEvents } from '../streams/controlled-upstream'
import { call, readStream, streamEnv, until } from '../streams/helpers'
import { freshIp } from '../helpers/fresh-ip'

/**
 * Issue 19, finding 2: an answer that ended without the upstream's usage (stopped, cut, failed)
 * was charged its prompt estimate and its visible text only: a key streamed ~900 tokens of
 * reasoning five times, stopped each, and paid 30 tokens. Now everything streamed is charged
 * (text, reasoning, tool calls), and the prompt estimate counts everything sent upstream.
 */
const REASONING = 'think '.repeat(800) // 4,800 characters: about 1,200 tokens
const ARGUMENTS = JSON.stringify({ q: 'x'.repeat(4000) })

const env = () =>
  streamEnv({
    MODELS: { gpt: { adapter: 'openai', base_url: 'https://upstream.test/v1', upstream_model: 'm' } },
    DEFAULT_MODEL: 'gpt',
    ANONYMOUS_DAILY_TOKENS: '1000000',
  })

/**
 * An upstream that streams `body`, then holds the connection open (no usage, no end). `reads`
 * counts the gateway's reads: at 2, it has the body and waits for more.
 */
function upstreamSending(body: string) {
  const state = { reads: 0 }
  vi.spyOn(globalThis, 'fetch').mockImplementation(async () => {
    const stream = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (++state.reads === 1) controller.enqueue(new TextEncoder().encode(body))
          else return new Promise<void>(() => {})
        },
      },
      { highWaterMark: 0 },
    )
    return new Response(stream, { headers: { 'Content-Type': 'text/event-stream' } })
  })
  return state
}

/** Each test is its own anonymous caller, with its own principal's object to read the charge from. */
function caller() {
  const ip = freshIp()
  const limits = bindings.PRINCIPAL_LIMITS!.get(bindings.PRINCIPAL_LIMITS!.idFromName(`anonymous:${ip}`))
  const post = (path: string, body: object = {}, signal?: AbortSignal) =>
    call(
      path,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': ip },
        body: JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }], ...body }),
        signal,
      },
      env(),
    )
  return { ip, limits, post }
}

/** Tokens charged once the answer has been settled. */
async function charged(limits: ReturnType<typeof caller>['limits']): Promise<number> {
  await until(async () => (await limits.usage()).answers === 1)
  return (await limits.usage()).tokens
}

afterEach(() => vi.restoreAllMocks())

describe('an answer stopped before the upstream reported usage', () => {
  it('/api/chat, left mid-reasoning: the reasoning streamed is charged', async () => {
    upstreamSending(openAI.reasoning(REASONING))
    const { limits, post } = caller()
    const stream = readStream(await post('/api/chat'))
    while (!stream.text.includes('event: reasoning')) await stream.more()
    await stream.cancel()
    expect(await charged(limits)).toBeGreaterThanOrEqual(REASONING.length / 4)
  })

  it('/api/streams, stopped with DELETE: reasoning and tool-call arguments are charged', async () => {
    upstreamSending(openAI.reasoning(REASONING) + openAI.toolCall(0, ARGUMENTS, 'call_1', 'search'))
    const { limits, post } = caller()
    const { id } = (await (await post('/api/streams')).json()) as { id: string }
    const reader = readStream(await call(`/api/streams/${id}`, {}, env()))
    while (!reader.text.includes('event: tool_call')) await reader.more()
    expect((await call(`/api/streams/${id}`, { method: 'DELETE' }, env())).status).toBe(204)
    expect(await charged(limits)).toBeGreaterThanOrEqual((REASONING.length + ARGUMENTS.length) / 4)
  })

  it('/api/streams, cut by a restart: the object charges what its log holds, reasoning included', async () => {
    upstreamSending(openAI.reasoning(REASONING))
    const { limits, post } = caller()
    const { id } = (await (await post('/api/streams')).json()) as { id: string }
    const reader = readStream(await call(`/api/streams/${id}`, {}, env()))
    while (!reader.text.includes('event: reasoning')) await reader.more()
    await reader.cancel()
    // Charged is what the log holds: wait for the reasoning to be written (the object batches writes).
    await until(async () => (await storedEvents(id)).some((event) => event.event === 'reasoning'))
    await abortAllDurableObjects()
    expect(await (await call(`/api/streams/${id}`, {}, env())).text()).toContain('"code":"interrupted"')
    expect(await charged(limits)).toBeGreaterThanOrEqual(REASONING.length / 4)
  })

  it('/v1 stream: false, left mid-answer: the tool-call arguments received are charged', async () => {
    const upstream = upstreamSending(openAI.toolCall(0, ARGUMENTS, 'call_1', 'search'))
    const { limits, post } = caller()
    const client = new AbortController()
    const pending = Promise.resolve(post('/v1/chat/completions', {}, client.signal)).catch(() => undefined)
    await until(() => upstream.reads === 2)
    client.abort()
    await pending
    expect(await charged(limits)).toBeGreaterThanOrEqual(ARGUMENTS.length / 4)
  })
})

describe('the prompt estimate', () => {
  const base: ChatRequest = { messages: [{ role: 'user', content: 'hi' }] }

  it('counts tool definitions and JSON schemas, as sent upstream', () => {
    const schema = { type: 'object', description: 'd'.repeat(20_000) }
    const withTools: ChatRequest = {
      ...base,
      tools: [{ type: 'function', function: { name: 'f', description: 'x'.repeat(8000), parameters: schema } }],
    }
    expect(estimatePromptTokens(withTools) - estimatePromptTokens(base)).toBeGreaterThanOrEqual(28_000 / 4)
    const withSchema: ChatRequest = {
      ...base,
      response_format: { type: 'json_schema', json_schema: { name: 's', schema } },
    }
    expect(estimatePromptTokens(withSchema) - estimatePromptTokens(base)).toBeGreaterThanOrEqual(20_000 / 4)
  })

  it('counts each image at the documented flat rate', () => {
    const image = { type: 'image_url' as const, image_url: { url: 'https://example.com/a.png' } }
    const withImages: ChatRequest = {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }, image, image] }],
    }
    expect(estimatePromptTokens(withImages) - estimatePromptTokens(base)).toBeGreaterThanOrEqual(2 * 1000)
  })
})
