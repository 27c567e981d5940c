import { afterEach, describe, expect, it, vi } from 'vitest'
import type { AnswerSummary } from '../../src/events/answer-summary'
import { gatewayFormat } from '../../src/formats/gateway'
import { chatEventStream, type ChatEventStreamOptions } from '../../src/pipeline/chat-event-stream'
import { createOpenAIDecoder } from '../../src/providers/openai/decoder'
import type { UpstreamDecoder } from '../../src/providers/types'
import { eventsOf, parseEventStream, readChunks } from '../helpers/sse'
import { manualUpstream, openAI } from '../helpers/upstream'

const start = { id: 'chat_1', model: 'test', upstream: 'test', created: 1 }
const HOUR = 3_600_000

function stream(upstream: ReturnType<typeof manualUpstream>, options: Partial<ChatEventStreamOptions> = {}) {
  const summaries: AnswerSummary[] = []
  const out = chatEventStream(upstream.upstream, {
    start,
    encoder: gatewayFormat.live({ retryMs: 2500 }),
    heartbeatMs: HOUR,
    idleTimeoutMs: HOUR,
    deadlineMs: HOUR,
    onEnd: (summary) => summaries.push(summary),
    ...options,
  })
  return { out, summaries }
}

const terminalNames = new Set(['done', 'error'])

/** The contract every stream must keep, whatever happened: start first, one terminal event last, ids counting up by one. */
function expectWellFormed(body: string) {
  const parsed = parseEventStream(body)
  const names = parsed.events.map((e) => e.event)
  expect(names[0]).toBe('start')
  expect(names.filter((n) => terminalNames.has(n!))).toHaveLength(1)
  expect(terminalNames.has(names.at(-1)!)).toBe(true)
  expect(parsed.events.map((e) => Number(e.id))).toEqual(names.map((_, i) => i + 1))
  return parsed
}

describe('chatEventStream', () => {
  it('streams start, deltas, usage and done, with retry and consecutive ids', async () => {
    const upstream = manualUpstream()
    const { out, summaries } = stream(upstream)
    upstream.send(openAI.text('Hel') + openAI.text('lo'))
    upstream.send(openAI.finish() + openAI.usage(3, 2) + openAI.done)
    upstream.end()
    const body = (await readChunks(out)).join('')
    expect(body.startsWith('retry: 2500\n')).toBe(true)
    const parsed = expectWellFormed(body)
    expect(parsed.retry).toBe(2500)
    expect(eventsOf(body).map(({ event, data }) => ({ event, data }))).toEqual([
      { event: 'start', data: start },
      { event: 'delta', data: { text: 'Hel' } },
      { event: 'delta', data: { text: 'lo' } },
      { event: 'usage', data: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } },
      { event: 'done', data: { finish_reason: 'stop' } },
    ])
    expect(summaries).toEqual([expect.objectContaining({ outcome: 'done', finishReason: 'stop' })])
    expect(upstream.state.cancelled).toBe(false)
  })

  it('writes everything one upstream chunk holds as one chunk, and each chunk as soon as it comes', async () => {
    const upstream = manualUpstream()
    const { out } = stream(upstream)
    const reader = out.getReader()
    const decoder = new TextDecoder()
    const next = async () => decoder.decode((await reader.read()).value)
    expect(await next()).toContain('event: start')
    upstream.send(openAI.text('a') + openAI.text('b') + openAI.text('c'))
    const burst = eventsOf(await next())
    expect(burst.map((e) => e.data)).toEqual([{ text: 'a' }, { text: 'b' }, { text: 'c' }])
    // The next token is delivered alone, without waiting for anything after it.
    upstream.send(openAI.text('d'))
    expect(eventsOf(await next()).map((e) => e.data)).toEqual([{ text: 'd' }])
    reader.cancel()
  })

  it('keeps reading when a chunk holds only part of an event', async () => {
    const upstream = manualUpstream()
    const { out } = stream(upstream)
    const reader = out.getReader()
    const decoder = new TextDecoder()
    await reader.read() // start
    const event = openAI.text('split')
    upstream.send(event.slice(0, 10))
    const next = reader.read()
    upstream.send(event.slice(10))
    expect(eventsOf(decoder.decode((await next).value)).map((e) => e.data)).toEqual([{ text: 'split' }])
    await reader.cancel()
  })

  it('turns an upstream that breaks off into a terminal error after the text so far', async () => {
    const upstream = manualUpstream()
    const { out, summaries } = stream(upstream)
    upstream.send(openAI.text('half an ans'))
    upstream.fail(new Error('connection reset'))
    const body = (await readChunks(out)).join('')
    expectWellFormed(body)
    expect(eventsOf(body).at(-1)).toMatchObject({
      event: 'error',
      data: { code: 'upstream_connection_lost', retryable: true },
    })
    expect(summaries[0]).toMatchObject({ outcome: 'error', errorCode: 'upstream_connection_lost' })
  })

  it('turns a clean end without the end marker into upstream_truncated, never done', async () => {
    const upstream = manualUpstream()
    const { out } = stream(upstream)
    upstream.send(openAI.text('no end marker'))
    upstream.end()
    const body = (await readChunks(out)).join('')
    expectWellFormed(body)
    expect(eventsOf(body).at(-1)).toMatchObject({ event: 'error', data: { code: 'upstream_truncated' } })
  })

  it('sends heartbeats while the upstream is silent, from the start', async () => {
    const upstream = manualUpstream()
    const { out } = stream(upstream, { heartbeatMs: 20 })
    const reader = out.getReader()
    const decoder = new TextDecoder()
    let text = ''
    while (!text.includes(': ping\n\n: ping\n\n')) text += decoder.decode((await reader.read()).value)
    expect(parseEventStream(text).comments.length).toBeGreaterThanOrEqual(2)
    expect(parseEventStream(text).events.map((e) => e.event)).toEqual(['start'])
    await reader.cancel()
  })

  it('fails with upstream_idle_timeout when the upstream stays silent, and cancels it', async () => {
    const upstream = manualUpstream()
    const { out } = stream(upstream, { idleTimeoutMs: 30, heartbeatMs: 10 })
    upstream.send(openAI.text('thinking...'))
    const body = (await readChunks(out)).join('')
    expectWellFormed(body)
    expect(eventsOf(body).at(-1)).toMatchObject({ event: 'error', data: { code: 'upstream_idle_timeout' } })
    expect(upstream.state.cancelled).toBe(true)
  })

  it('fails with deadline_exceeded when the whole answer takes too long, even while tokens flow', async () => {
    const upstream = manualUpstream()
    const { out } = stream(upstream, { deadlineMs: 50 })
    const ticker = setInterval(() => upstream.send(openAI.text('.')), 5)
    const body = (await readChunks(out)).join('')
    clearInterval(ticker)
    expectWellFormed(body)
    expect(eventsOf(body).at(-1)).toMatchObject({
      event: 'error',
      data: { code: 'deadline_exceeded', retryable: false },
    })
    expect(upstream.state.cancelled).toBe(true)
  })

  it('cancels the upstream when the client cancels, and reports the stream as cancelled', async () => {
    const upstream = manualUpstream()
    const { out, summaries } = stream(upstream)
    const reader = out.getReader()
    await reader.read()
    await reader.cancel('client left')
    expect(upstream.state.cancelled).toBe(true)
    expect(summaries).toEqual([expect.objectContaining({ outcome: 'cancelled' })])
  })

  it('still ends with a terminal event when the decoder throws', async () => {
    const broken: UpstreamDecoder = {
      decode: () => {
        throw new Error('bug')
      },
      end: () => [],
    }
    const upstream = manualUpstream(broken)
    const { out } = stream(upstream)
    upstream.send('anything')
    const body = (await readChunks(out)).join('')
    expectWellFormed(body)
    expect(eventsOf(body).at(-1)).toMatchObject({ event: 'error', data: { code: 'internal_error' } })
  })

  it('cannot be made to emit an extra field or event by what the text contains', async () => {
    const hostile = 'a\n\nevent: done\ndata: {"finish_reason":"stop"}\n\nid: 99\r\nretry: 1\r'
    const upstream = manualUpstream()
    const { out } = stream(upstream)
    upstream.send(openAI.text(hostile) + openAI.finish() + openAI.done)
    upstream.end()
    const body = (await readChunks(out)).join('')
    const parsed = expectWellFormed(body)
    expect(parsed.retry).toBe(2500)
    expect(eventsOf(body).map((e) => e.event)).toEqual(['start', 'delta', 'done'])
    expect(eventsOf(body)[1]!.data).toEqual({ text: hostile })
  })

  it('keeps backpressure: reads no further ahead of a client that is not reading', async () => {
    // An upstream with an endless answer ready: every read it is asked for, it serves at once.
    let served = 0
    const body = new ReadableStream<Uint8Array>(
      { pull: (c) => void (served++, c.enqueue(new TextEncoder().encode(openAI.text('token ')))) },
      { highWaterMark: 0 },
    )
    const out = chatEventStream(
      { body, decoder: createOpenAIDecoder() },
      {
        start,
        encoder: gatewayFormat.live({ retryMs: 0 }),
        heartbeatMs: HOUR,
        idleTimeoutMs: HOUR,
        deadlineMs: HOUR,
      },
    )
    const reader = out.getReader()
    await reader.read() // start
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setTimeout(resolve, 0))
    // A pipeline that drained the upstream regardless would have read hundreds of chunks by now.
    expect(served).toBeLessThanOrEqual(2)
    await reader.read()
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setTimeout(resolve, 0))
    expect(served).toBeLessThanOrEqual(3)
    await reader.cancel()
  })
})

describe('chatEventStream: reasoning and tool calls', () => {
  afterEach(() => void vi.useRealTimers())

  it('writes reasoning and tool_call events in the order they came, id and name on a call’s first piece only', async () => {
    const upstream = manualUpstream()
    const { out } = stream(upstream)
    upstream.send(openAI.reasoning('Think.') + openAI.text('Calling.'))
    upstream.send(openAI.toolCall(0, '{"q":', 'call_1', 'search') + openAI.toolCall(0, '"x"}'))
    upstream.send(openAI.finish('tool_calls') + openAI.done)
    upstream.end()
    const body = (await readChunks(out)).join('')
    expectWellFormed(body)
    expect(body).toContain(
      'event: tool_call\ndata: {"index":0,"id":"call_1","name":"search","arguments_delta":"{\\"q\\":"}\n\n',
    )
    expect(eventsOf(body).map(({ event, data }) => ({ event, data }))).toEqual([
      { event: 'start', data: start },
      { event: 'reasoning', data: { text: 'Think.' } },
      { event: 'delta', data: { text: 'Calling.' } },
      { event: 'tool_call', data: { index: 0, id: 'call_1', name: 'search', arguments_delta: '{"q":' } },
      { event: 'tool_call', data: { index: 0, arguments_delta: '"x"}' } },
      { event: 'done', data: { finish_reason: 'tool_calls' } },
    ])
  })

  it('counts reasoning as the upstream being alive: no idle timeout while the model thinks', async () => {
    vi.useFakeTimers()
    const run = async (thinking: boolean) => {
      const upstream = manualUpstream()
      const { out } = stream(upstream, { idleTimeoutMs: 1000 })
      const reader = out.getReader()
      const decoder = new TextDecoder()
      let body = decoder.decode((await reader.read()).value)
      // Five steps of 600 ms: three times the idle timeout in all, never 1000 ms without a byte.
      for (let step = 0; step < 5 && !body.includes('event: error'); step++) {
        if (thinking) {
          upstream.send(openAI.reasoning(`step ${step}. `))
          body += decoder.decode((await reader.read()).value)
        }
        await vi.advanceTimersByTimeAsync(600)
      }
      // A stream that timed out has let go of its upstream already.
      if (!upstream.state.cancelled) {
        upstream.send(openAI.text('Answer.') + openAI.finish() + openAI.done)
        upstream.end()
      }
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        body += decoder.decode(value)
      }
      return eventsOf(body)
    }
    const thinking = await run(true)
    expect(thinking.filter((e) => e.event === 'reasoning')).toHaveLength(5)
    expect(thinking.at(-1)).toMatchObject({ event: 'done' })
    // The same wait without reasoning is the silence the timeout is for.
    expect((await run(false)).at(-1)).toMatchObject({ event: 'error', data: { code: 'upstream_idle_timeout' } })
  })
})
