import { describe, expect, it } from 'vitest'
import { createAnthropicDecoder } from '../../../src/providers/anthropic/decoder'
import { decodeAtEverySplit, joinToolCalls } from '../../helpers/decode'
import { anthropicRecordings } from '../../helpers/fixtures'

const decode = (body: string) => decodeAtEverySplit(createAnthropicDecoder, body)
const event = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`
const messageStart = event('message_start', {
  message: {
    id: 'msg_01',
    type: 'message',
    role: 'assistant',
    content: [],
    model: 'claude-sonnet-4-5',
    usage: { input_tokens: 24, output_tokens: 1 },
  },
})
const end = (stop_reason: string, output_tokens: number) =>
  event('message_delta', { delta: { stop_reason, stop_sequence: null }, usage: { output_tokens } }) +
  event('message_stop', {})

describe('Anthropic decoder: tool_use, on the recordings', () => {
  it('turns tool_use_response.sse into the text, then one call with its id, name and arguments', () => {
    const events = decode(anthropicRecordings['tool_use_response.sse']!)
    expect(events.filter((e) => e.type === 'text')).toEqual([
      { type: 'text', text: "I'll check the current weather in Paris for you." },
    ])
    // The recording's empty first partial_json is not an event; its four fragments are.
    expect(events.filter((e) => e.type === 'tool_call')).toEqual([
      { type: 'tool_call', index: 0, id: 'toolu_01NRLabsLyVHZPKxbKvkfSMn', name: 'get_weather', argumentsDelta: '' },
      { type: 'tool_call', index: 0, argumentsDelta: '{"locati' },
      { type: 'tool_call', index: 0, argumentsDelta: 'on": "P' },
      { type: 'tool_call', index: 0, argumentsDelta: 'ar' },
      { type: 'tool_call', index: 0, argumentsDelta: 'is"}' },
    ])
    expect(JSON.parse(joinToolCalls(events)[0]!.arguments)).toEqual({ location: 'Paris' })
    expect(events.at(-1)).toEqual({ type: 'done', finishReason: 'tool_calls' })
  })

  it('ends a call cut by max_tokens (incomplete_partial_json_response.sse) with length, its arguments partial', () => {
    const events = decode(anthropicRecordings['incomplete_partial_json_response.sse']!)
    const [call] = joinToolCalls(events)
    expect(call).toMatchObject({ id: 'toolu_01EKqbqmZrGRXy18eN7m9kvY', name: 'make_file' })
    expect(call!.arguments.startsWith('{"filename": "taxes.txt", "lines_of_text": [')).toBe(true)
    expect(() => JSON.parse(call!.arguments)).toThrow()
    expect(events.at(-1)).toEqual({ type: 'done', finishReason: 'length' })
  })

  it('does not pass a server tool (web search, stream-a-toolrefusal.sse) on as a tool call', () => {
    const events = decode(anthropicRecordings['stream-a-toolrefusal.sse']!)
    expect(events.some((e) => e.type === 'tool_call')).toBe(false)
  })
})

describe('Anthropic decoder: built from the documented formats', () => {
  it('yields thinking as reasoning, its signature and a redacted block as pieces of their own, then the text', () => {
    const body =
      messageStart +
      event('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }) +
      event('content_block_delta', {
        index: 0,
        delta: { type: 'thinking_delta', thinking: 'Euclid: 1071 = 2 × 462 + 147' },
      }) +
      event('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: '; … so 21.' } }) +
      event('content_block_delta', {
        index: 0,
        delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA' },
      }) +
      event('content_block_stop', { index: 0 }) +
      event('content_block_start', {
        index: 1,
        content_block: { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' },
      }) +
      event('content_block_stop', { index: 1 }) +
      event('content_block_start', { index: 2, content_block: { type: 'text', text: '' } }) +
      event('content_block_delta', { index: 2, delta: { type: 'text_delta', text: 'The GCD is **21**.' } }) +
      event('content_block_stop', { index: 2 }) +
      end('end_turn', 312)
    expect(decode(body)).toEqual([
      { type: 'reasoning', text: 'Euclid: 1071 = 2 × 462 + 147' },
      { type: 'reasoning', text: '; … so 21.' },
      { type: 'reasoning', text: '', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA' },
      { type: 'reasoning', text: '', redacted: 'EmwKAhgBEgy3va3pzix' },
      { type: 'text', text: 'The GCD is **21**.' },
      { type: 'usage', usage: { prompt_tokens: 24, completion_tokens: 312, total_tokens: 336 } },
      { type: 'done', finishReason: 'stop' },
    ])
  })

  it('numbers parallel tool_use blocks from 0, whatever their block index, each with its own arguments', () => {
    const toolUse = (index: number, id: string, city: string) =>
      event('content_block_start', { index, content_block: { type: 'tool_use', id, name: 'get_weather', input: {} } }) +
      event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: '' } }) +
      event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: '{"city": ' } }) +
      event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: `"${city}"}` } }) +
      event('content_block_stop', { index })
    const body =
      messageStart +
      event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
      event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Checking both.' } }) +
      event('content_block_stop', { index: 0 }) +
      toolUse(1, 'toolu_A', 'Paris') +
      toolUse(2, 'toolu_B', 'Rome') +
      end('tool_use', 90)
    const events = decode(body)
    expect(joinToolCalls(events)).toEqual([
      { id: 'toolu_A', name: 'get_weather', arguments: '{"city": "Paris"}' },
      { id: 'toolu_B', name: 'get_weather', arguments: '{"city": "Rome"}' },
    ])
    expect(events.filter((e) => e.type === 'tool_call').map((e) => (e as { index: number }).index)).toEqual([
      0, 0, 0, 1, 1, 1,
    ])
    expect(events.at(-1)).toEqual({ type: 'done', finishReason: 'tool_calls' })
  })

  it('says which stop sequence ended the answer', () => {
    const body =
      messageStart +
      event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
      event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'One, two' } }) +
      event('content_block_stop', { index: 0 }) +
      event('message_delta', {
        delta: { stop_reason: 'stop_sequence', stop_sequence: 'three' },
        usage: { output_tokens: 4 },
      }) +
      event('message_stop', {})
    expect(decode(body).at(-1)).toEqual({ type: 'done', finishReason: 'stop', stopSequence: 'three' })
  })
})
