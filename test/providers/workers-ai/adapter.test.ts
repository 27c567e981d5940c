import { describe, expect, it } from 'vitest'
import type { Env } from '../../../src/config'
import app from '../../../src/index'
import { eventsOf } from '../../helpers/sse'
import { random, randomOffsets, splitAt } from '../../helpers/split'

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
  return {
    DEFAULT_MODEL: 'llama',
    MODELS: { llama: { adapter: 'workers-ai', upstream_model: '@cf/meta/llama-3.1-8b-instruct' } },
    ANONYMOUS_MODELS: 'llama',
    AI: ai,
  }
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
