import Anthropic, { APIError } from '@anthropic-ai/sdk'
import { describe, expect, it } from 'vitest'
import { anthropicMessagesFormat } from '../../src/dialects/messages/format'
import { chatEventStream } from '../../src/pipeline/chat-event-stream'
import { createAnthropicDecoder } from '../../src/providers/anthropic/decoder'
import { createOpenAIDecoder } from '../../src/providers/openai/decoder'
import type { UpstreamDecoder } from '../../src/providers/types'
import { anthropicRecordings } from '../helpers/fixtures'
import { openAI } from '../helpers/upstream'

/**
 * The Messages format as the real `@anthropic-ai/sdk` reads it: a recorded Anthropic stream goes
 * through the decoder, the pipeline and the format, and the SDK must make of our bytes the message
 * it makes of Anthropic's own, in substance (blocks, tool input, thinking and signatures, stop
 * reason, usage).
 */

const utf8 = new TextEncoder()
const start = { id: 'msg_gateway', model: 'claude-test', upstream: 'claude-test', created: 1 }

/** A body that sends `text` in pieces of `size` bytes (splitting anywhere, as a network does). */
function bodyOf(text: string, size = 37): ReadableStream<Uint8Array> {
  const bytes = utf8.encode(text)
  let offset = 0
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close()
      controller.enqueue(bytes.slice(offset, (offset += size)))
    },
  })
}

/** The pipeline's output in the Messages format, for an upstream body. */
function throughGateway(upstream: string, decoder: UpstreamDecoder = createAnthropicDecoder()) {
  return chatEventStream(
    { body: bodyOf(upstream), decoder },
    {
      start,
      encoder: anthropicMessagesFormat.live({ retryMs: 1000 }),
      heartbeatMs: 60_000,
      idleTimeoutMs: 60_000,
      deadlineMs: 60_000,
    },
  )
}

/** The real SDK, reading a stream we hand it as the API's response. */
function sdkReading(body: ReadableStream<Uint8Array> | string) {
  const client = new Anthropic({
    apiKey: 'test',
    maxRetries: 0,
    fetch: async () =>
      new Response(typeof body === 'string' ? bodyOf(body) : body, {
        headers: { 'content-type': 'text/event-stream' },
      }),
  })
  return client.messages.stream({ model: 'claude-test', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] })
}

type Block = Anthropic.ContentBlock

/**
 * A message's substance: the blocks the client's own tools and thinking make (server tools run
 * at Anthropic and are not passed on), text blocks that follow each other as one, and the
 * usage as totals (cached input is input).
 */
function substance(message: Anthropic.Message) {
  const blocks: Array<Record<string, unknown>> = []
  for (const block of message.content as Block[]) {
    if (block.type === 'text') {
      const last = blocks.at(-1)
      if (last?.type === 'text') last.text += block.text
      else blocks.push({ type: 'text', text: block.text })
    } else if (block.type === 'thinking') {
      blocks.push({ type: 'thinking', thinking: block.thinking, signature: block.signature })
    } else if (block.type === 'redacted_thinking') blocks.push({ type: 'redacted_thinking', data: block.data })
    else if (block.type === 'tool_use')
      blocks.push({ type: 'tool_use', id: block.id, name: block.name, input: block.input })
  }
  const { usage } = message
  return {
    blocks: blocks.filter((b) => b.type !== 'text' || b.text !== ''),
    stop_reason: message.stop_reason,
    stop_sequence: message.stop_sequence,
    input_tokens: usage.input_tokens + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0),
    output_tokens: usage.output_tokens,
  }
}

describe('the Messages format, read by @anthropic-ai/sdk', () => {
  for (const [name, recording] of Object.entries(anthropicRecordings)) {
    it(`gives the message Anthropic sent in ${name}`, async () => {
      const direct = await sdkReading(recording).finalMessage()
      const expected = substance(direct)
      expect(expected.blocks.length).toBeGreaterThan(0)
      // The gateway carries refusals as `content_filter`, which is Anthropic's `refusal` again.
      const ours = await sdkReading(throughGateway(recording)).finalMessage()
      expect(substance(ours)).toEqual(expected)
      expect(ours).toMatchObject({ id: 'msg_gateway', model: 'claude-test', type: 'message', role: 'assistant' })
    })
  }

  it('passes each piece of a tool call on as it came, in its own block', async () => {
    const recording = anthropicRecordings['tool_use_response.sse']!
    const pieces = (text: string) =>
      text
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => JSON.parse(line.slice(6)))
        .filter((e) => e.delta?.type === 'input_json_delta' && e.delta.partial_json)
        .map((e) => e.delta.partial_json)
    const out = await new Response(throughGateway(recording)).text()
    expect(pieces(out)).toEqual(pieces(recording))
    expect(pieces(out).length).toBeGreaterThan(1)
  })

  it('indexes parallel tool calls from an OpenAI upstream, interleaved pieces included', async () => {
    const upstream =
      openAI.text('Checking both.') +
      openAI.toolCall(0, '', 'call_a', 'get_weather') +
      openAI.toolCall(0, '{"city":') +
      openAI.toolCall(1, '', 'call_b', 'get_time') +
      openAI.toolCall(0, '"Paris"}') +
      openAI.toolCall(1, '{"tz":"CET"}') +
      openAI.finish('tool_calls') +
      openAI.usage(12, 30) +
      openAI.done
    const message = await sdkReading(throughGateway(upstream, createOpenAIDecoder())).finalMessage()
    expect(substance(message)).toEqual({
      blocks: [
        { type: 'text', text: 'Checking both.' },
        { type: 'tool_use', id: 'call_a', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'call_b', name: 'get_time', input: { tz: 'CET' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      input_tokens: 12,
      output_tokens: 30,
    })
  })

  it('passes thinking, its signature and a redacted block on as blocks of their own, the SDK reading them back', async () => {
    const event = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`
    const upstream =
      event('message_start', { message: { id: 'msg_1', usage: { input_tokens: 9, output_tokens: 1 } } }) +
      event('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }) +
      event('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'First, ' } }) +
      event('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'think.' } }) +
      event('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'c2lnLTE=' } }) +
      event('content_block_stop', { index: 0 }) +
      event('content_block_start', { index: 1, content_block: { type: 'redacted_thinking', data: 'ZW5jcnlwdGVk' } }) +
      event('content_block_stop', { index: 1 }) +
      event('content_block_start', { index: 2, content_block: { type: 'thinking', thinking: '', signature: '' } }) +
      event('content_block_delta', { index: 2, delta: { type: 'thinking_delta', thinking: 'Again.' } }) +
      event('content_block_delta', { index: 2, delta: { type: 'signature_delta', signature: 'c2lnLTI=' } }) +
      event('content_block_stop', { index: 2 }) +
      event('content_block_start', { index: 3, content_block: { type: 'text', text: '' } }) +
      event('content_block_delta', { index: 3, delta: { type: 'text_delta', text: 'Done.' } }) +
      event('content_block_stop', { index: 3 }) +
      event('message_delta', {
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { output_tokens: 30 },
      }) +
      event('message_stop', {})
    const message = await sdkReading(throughGateway(upstream)).finalMessage()
    expect(message.content).toEqual([
      { type: 'thinking', thinking: 'First, think.', signature: 'c2lnLTE=' },
      { type: 'redacted_thinking', data: 'ZW5jcnlwdGVk' },
      { type: 'thinking', thinking: 'Again.', signature: 'c2lnLTI=' },
      { type: 'text', text: 'Done.' },
    ])
  })

  it('carries the stop sequence that ended the answer', async () => {
    const recording = anthropicRecordings['basic_response.sse']!.replace(
      '"stop_reason":"end_turn","stop_sequence":null',
      '"stop_reason":"stop_sequence","stop_sequence":"###"',
    )
    const message = await sdkReading(throughGateway(recording)).finalMessage()
    expect([message.stop_reason, message.stop_sequence]).toEqual(['stop_sequence', '###'])
  })

  it('ends a failed answer with an error event and no message_stop, which the SDK throws', async () => {
    const recording = anthropicRecordings['basic_response.sse']!
    const cut = recording.slice(0, recording.indexOf('event: content_block_stop'))
    const overloaded = `event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n`
    const out = await new Response(throughGateway(cut + overloaded)).text()
    // Our words, not the upstream's (which never reach a client verbatim; see docs/security.md).
    expect(out).toContain(
      'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"The model provider failed while answering; asking again may work."}}\n\n',
    )
    expect(out).not.toContain('message_stop')
    const error = await sdkReading(throughGateway(cut + overloaded))
      .finalMessage()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Anthropic.APIError)
    expect((error as APIError).type).toBe('overloaded_error')

    // Cut off with no error at all: our api_error, never a finished message.
    const truncated = await sdkReading(throughGateway(cut))
      .finalMessage()
      .catch((e: unknown) => e)
    expect(truncated).toBeInstanceOf(Anthropic.APIError)
    expect((truncated as APIError).type).toBe('api_error')
  })

  it('sends Anthropic’s ping as the heartbeat', () => {
    expect(anthropicMessagesFormat.live({ retryMs: 1 }).heartbeat()).toBe('event: ping\ndata: {"type": "ping"}\n\n')
  })
})
