import Anthropic from '@anthropic-ai/sdk'
import { describe, expect, it } from 'vitest'
import type { UsageEventData } from '../../src/events/chat-events'
import { anthropicMessagesFormat, toAnthropicUsage } from '../../src/dialects/messages/format'
import { toOpenAIUsage } from '../../src/dialects/chat/format'
import { toResponsesUsage } from '../../src/dialects/responses/format'
import { chatEventStream } from '../../src/pipeline/chat-event-stream'
import { createAnthropicDecoder } from '../../src/providers/anthropic/decoder'

/**
 * Prompt caching's tokens through every dialect (issue 25): the Anthropic decoder names the
 * cached parts of the prompt, and each surface reports them in its own terms. Anthropic's own
 * `@anthropic-ai/sdk` reads the same usage from the gateway's stream as from Anthropic's.
 */

const event = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`
/** An Anthropic stream whose prompt was mostly read from the cache, and a little written to it. */
const CACHED = [
  event('message_start', {
    message: {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 12, cache_read_input_tokens: 4000, cache_creation_input_tokens: 300, output_tokens: 1 },
    },
  }),
  event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hi.' } }),
  event('content_block_stop', { index: 0 }),
  event('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 7 } }),
  event('message_stop', {}),
].join('')

const usage: UsageEventData = {
  prompt_tokens: 4312,
  completion_tokens: 7,
  total_tokens: 4319,
  cache_read_tokens: 4000,
  cache_write_tokens: 300,
}

function sdkReading(body: ReadableStream<Uint8Array> | string) {
  const client = new Anthropic({
    apiKey: 'test',
    maxRetries: 0,
    fetch: async () => new Response(body, { headers: { 'content-type': 'text/event-stream' } }),
  })
  return client.messages.stream({ model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] })
}

describe('cached input tokens', () => {
  it('are parts of prompt_tokens, as the Anthropic decoder reports them', () => {
    const decoder = createAnthropicDecoder()
    const events = [...decoder.decode(new TextEncoder().encode(CACHED)), ...decoder.end()]
    expect(events.find((e) => e.type === 'usage')).toEqual({ type: 'usage', usage })
  })

  it('reach @anthropic-ai/sdk as Anthropic sent them: input_tokens the uncached rest', async () => {
    const direct = await sdkReading(CACHED).finalMessage()
    const body = chatEventStream(
      { body: new Response(CACHED).body!, decoder: createAnthropicDecoder() },
      {
        start: { id: 'msg_gateway', model: 'claude', upstream: 'claude', created: 1 },
        encoder: anthropicMessagesFormat.live({ retryMs: 1000 }),
        heartbeatMs: 60_000,
        idleTimeoutMs: 60_000,
        deadlineMs: 60_000,
      },
    )
    const ours = await sdkReading(body).finalMessage()
    const counts = ({ usage }: Anthropic.Message) => ({
      input_tokens: usage.input_tokens,
      output_tokens: usage.output_tokens,
      cache_read_input_tokens: usage.cache_read_input_tokens,
      cache_creation_input_tokens: usage.cache_creation_input_tokens,
    })
    expect(counts(ours)).toEqual(counts(direct))
    expect(counts(ours)).toEqual({
      input_tokens: 12,
      output_tokens: 7,
      cache_read_input_tokens: 4000,
      cache_creation_input_tokens: 300,
    })
  })

  it('are named in every dialect’s usage, and left out where there were none', () => {
    expect(toAnthropicUsage(usage)).toEqual({
      input_tokens: 12,
      output_tokens: 7,
      cache_read_input_tokens: 4000,
      cache_creation_input_tokens: 300,
    })
    expect(toOpenAIUsage(usage)).toEqual({
      prompt_tokens: 4312,
      completion_tokens: 7,
      total_tokens: 4319,
      prompt_tokens_details: { cached_tokens: 4000 },
    })
    expect(toResponsesUsage(usage)).toMatchObject({ input_tokens: 4312, input_tokens_details: { cached_tokens: 4000 } })
    const plain = { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 }
    expect(toAnthropicUsage(plain)).toEqual({ input_tokens: 5, output_tokens: 3 })
    expect(toOpenAIUsage(plain)).toEqual(plain)
    expect(toResponsesUsage(plain).input_tokens_details).toEqual({ cached_tokens: 0 })
  })
})
