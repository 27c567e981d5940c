import { describe, expect, it } from 'vitest'
import { createOpenAIDecoder } from '../../../src/providers/openai/decoder'
import { createResponsesDecoder } from '../../../src/providers/openai/responses-decoder'
import { decodeAll, decodeAtEverySplit, joinToolCalls, mergeText } from '../../helpers/decode'
import { openAIResponsesRecordings } from '../../helpers/fixtures'

const utf8 = new TextEncoder()
const decode = (body: string) => mergeText(decodeAll(createResponsesDecoder, [utf8.encode(body)]))
/** One Responses stream event, as OpenAI writes it (`event:` line and the same `type` in the data). */
const event = (type: string, data: object = {}) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: 0, ...data })}\n\n`
const response = (fields: object) => ({ id: 'resp_1', object: 'response', output: [], ...fields })

describe('Responses decoder on the recorded streams (openai-node fixtures)', () => {
  it('reads text, then usage and done from response.completed; [DONE] after it changes nothing', () => {
    const events = decodeAtEverySplit(
      createResponsesDecoder,
      openAIResponsesRecordings['stream-standard-text-works-1.sse']!,
    )
    expect(events).toEqual([
      { type: 'text', text: 'Hello world' },
      { type: 'usage', usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12, reasoning_tokens: 0 } },
      { type: 'done', finishReason: 'stop' },
    ])
  })

  it('reads reasoning text apart from the answer, and reasoning tokens in usage', () => {
    const events = decodeAtEverySplit(
      createResponsesDecoder,
      openAIResponsesRecordings['stream-reasoning-works-1.sse']!,
    )
    expect(events.filter((e) => e.type === 'reasoning').map((e) => e.type === 'reasoning' && e.text)).toEqual([
      'Chain: Step 1. ',
      'Step 2.',
    ])
    expect(mergeText(events.filter((e) => e.type !== 'reasoning'))).toEqual([
      { type: 'text', text: 'The answer is 42' },
      { type: 'usage', usage: { prompt_tokens: 0, completion_tokens: 6, total_tokens: 6, reasoning_tokens: 2 } },
      { type: 'done', finishReason: 'stop' },
    ])
  })
})

describe('Responses decoder on the cases the recordings lack', () => {
  const created = event('response.created', { response: response({ status: 'in_progress' }) })

  it('reads reasoning summaries, function calls by call_id with their argument deltas, and ends in tool_calls', () => {
    const body = [
      created,
      event('response.output_item.added', { output_index: 0, item: { type: 'reasoning', id: 'rs_1', summary: [] } }),
      event('response.reasoning_summary_text.delta', { output_index: 0, delta: 'Look at the file.' }),
      event('response.output_item.added', {
        output_index: 1,
        item: { type: 'function_call', id: 'fc_1', call_id: 'call_a', name: 'exec_command', arguments: '' },
      }),
      event('response.function_call_arguments.delta', { output_index: 1, item_id: 'fc_1', delta: '{"cmd":' }),
      event('response.function_call_arguments.delta', { output_index: 1, item_id: 'fc_1', delta: '"cat note.txt"}' }),
      event('response.output_item.added', { output_index: 2, item: { type: 'web_search_call', id: 'ws_1' } }),
      event('response.output_item.added', {
        output_index: 3,
        item: { type: 'function_call', id: 'fc_2', call_id: 'call_b', name: 'ls', arguments: '{}' },
      }),
      event('response.completed', {
        response: response({
          status: 'completed',
          usage: {
            input_tokens: 2000,
            input_tokens_details: { cached_tokens: 1536 },
            output_tokens: 40,
            output_tokens_details: { reasoning_tokens: 12 },
            total_tokens: 2040,
          },
        }),
      }),
    ].join('')
    const events = decodeAtEverySplit(createResponsesDecoder, body)
    expect(events[0]).toEqual({ type: 'reasoning', text: 'Look at the file.' })
    expect(joinToolCalls(events)).toEqual([
      { id: 'call_a', name: 'exec_command', arguments: '{"cmd":"cat note.txt"}' },
      { id: 'call_b', name: 'ls', arguments: '{}' },
    ])
    expect(events.slice(-2)).toEqual([
      {
        type: 'usage',
        usage: {
          prompt_tokens: 2000,
          completion_tokens: 40,
          total_tokens: 2040,
          reasoning_tokens: 12,
          cache_read_tokens: 1536,
        },
      },
      { type: 'done', finishReason: 'tool_calls' },
    ])
  })

  it('ends an incomplete response at its token limit as length, with its usage', () => {
    const body =
      created +
      event('response.output_text.delta', { delta: 'Once upon' }) +
      event('response.incomplete', {
        response: response({
          status: 'incomplete',
          incomplete_details: { reason: 'max_output_tokens' },
          usage: { input_tokens: 5, output_tokens: 2, total_tokens: 7 },
        }),
      })
    expect(decode(body)).toEqual([
      { type: 'text', text: 'Once upon' },
      { type: 'usage', usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } },
      { type: 'done', finishReason: 'length' },
    ])
  })

  it('reads a refusal as the answer’s text', () => {
    const body = created + event('response.refusal.delta', { delta: 'I can’t help with that.' })
    expect(decode(body + event('response.completed', { response: response({ status: 'completed' }) }))).toEqual([
      { type: 'text', text: 'I can’t help with that.' },
      { type: 'done', finishReason: 'stop' },
    ])
  })

  it('turns response.failed into an error event, retryable when the provider failed', () => {
    const failed = event('response.failed', {
      response: response({ status: 'failed', error: { code: 'server_error', message: 'at sk-secret-123 host' } }),
    })
    const events = decode(created + event('response.output_text.delta', { delta: 'Hi' }) + failed)
    expect(events.at(-1)).toMatchObject({ type: 'error', code: 'upstream_error', retryable: true })
    expect(JSON.stringify(events)).not.toContain('sk-secret')
  })

  it('turns an error event into an error event, with a request error’s scrubbed reason', () => {
    const error = event('error', { code: 'invalid_prompt', message: 'Your prompt was flagged.' })
    expect(decode(created + error)).toEqual([
      {
        type: 'error',
        code: 'upstream_error',
        message: 'The model provider rejected the request: Your prompt was flagged.',
        retryable: false,
      },
    ])
  })

  it('turns a body that ends before a terminal event into upstream_truncated, [DONE] or not', () => {
    const cut = created + event('response.output_text.delta', { delta: 'Half an ans' })
    for (const body of [cut, cut + 'data: [DONE]\n\n']) {
      expect(decode(body).at(-1)).toMatchObject({ type: 'error', code: 'upstream_truncated', retryable: true })
    }
  })

  it('names a call into a namespace (Codex’s sub-agent tools) by the flat name the gateway’s request gives it', () => {
    const item = {
      type: 'function_call',
      call_id: 'call_1',
      namespace: 'multi_agent_v1',
      name: 'spawn_agent',
      arguments: '',
    }
    const events = decode(
      created +
        event('response.output_item.added', { output_index: 0, item }) +
        event('response.function_call_arguments.delta', { output_index: 0, delta: '{}' }) +
        event('response.completed', { response: response({ status: 'completed' }) }),
    )
    expect(events).toContainEqual({
      type: 'tool_call',
      index: 0,
      id: 'call_1',
      name: 'multi_agent_v1__spawn_agent',
      argumentsDelta: '',
    })
  })

  it('reports an event that is not JSON as upstream_malformed', () => {
    expect(decode(created + 'data: {"type": "response.output_te\n\n').at(-1)).toMatchObject({
      type: 'error',
      code: 'upstream_malformed',
    })
  })
})

describe('Chat Completions decoder: cached tokens', () => {
  it('reads prompt_tokens_details.cached_tokens as cache_read_tokens, a part of prompt_tokens', () => {
    const usage = {
      prompt_tokens: 1200,
      completion_tokens: 5,
      total_tokens: 1205,
      prompt_tokens_details: { cached_tokens: 1024 },
    }
    const body = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'ok' }, finish_reason: 'stop' }] })}\n\ndata: ${JSON.stringify({ choices: [], usage })}\n\ndata: [DONE]\n\n`
    expect(decodeAll(createOpenAIDecoder, [utf8.encode(body)])).toContainEqual({
      type: 'usage',
      usage: { prompt_tokens: 1200, completion_tokens: 5, total_tokens: 1205, cache_read_tokens: 1024 },
    })
  })
})
