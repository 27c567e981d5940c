import { describe, expect, it } from 'vitest'
import { GatewayError } from '../../src/errors'
import { chatEventStream } from '../../src/pipeline/chat-event-stream'
import { awaitFirstEvent } from '../../src/pipeline/first-event'
import { eventRecordFormat } from '../../src/streams/record-format'
import { manualUpstream, openAI } from '../helpers/upstream'

const options = () => ({ timeoutMs: 5000, signal: new AbortController().signal })

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = ''
  const decoder = new TextDecoder()
  for await (const chunk of stream) text += decoder.decode(chunk, { stream: true })
  return text
}

function pipeline(upstream: Parameters<typeof chatEventStream>[0]) {
  return chatEventStream(upstream, {
    start: { id: 's', model: 'm', upstream: 'm', created: 0 },
    encoder: eventRecordFormat(),
    heartbeatMs: 60_000,
    idleTimeoutMs: 60_000,
    deadlineMs: 60_000,
  })
}

describe('awaitFirstEvent', () => {
  it('resolves at the first real event and hands every byte on, decoded once', async () => {
    const { upstream, send, end } = manualUpstream()
    // Half an event, then the rest of it with the next one: the first event spans two chunks.
    const first = openAI.text('Hello')
    send(first.slice(0, 10))
    send(first.slice(10) + openAI.text(', '))
    const opened = await awaitFirstEvent(upstream, options())
    send(openAI.text('world') + openAI.finish() + openAI.done)
    end()
    const out = await readAll(pipeline(opened))
    expect(out.match(/"text":"[^"]*"/g)).toEqual(['"text":"Hello"', '"text":", "', '"text":"world"'])
    expect(out).toMatch(/^done\t/m)
  })

  it('fails retryably when the body ends before any event', async () => {
    const { upstream, end, state } = manualUpstream()
    end()
    const error = await awaitFirstEvent(upstream, options()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GatewayError)
    expect(error).toMatchObject({ code: 'upstream_truncated', retryable: true })
    expect(state.cancelled).toBe(false)
  })

  it('fails retryably when the connection breaks before any event', async () => {
    const { upstream, send, fail } = manualUpstream()
    send(': keepalive\n\n')
    fail(new Error('reset'))
    await expect(awaitFirstEvent(upstream, options())).rejects.toMatchObject({
      code: 'upstream_connection_lost',
      retryable: true,
    })
  })

  it('gives up on an upstream that sends headers and then nothing, and cancels it', async () => {
    const { upstream, state } = manualUpstream()
    await expect(awaitFirstEvent(upstream, { ...options(), timeoutMs: 20 })).rejects.toMatchObject({
      status: 504,
      retryable: true,
    })
    expect(state.cancelled).toBe(true)
  })

  it('stops waiting at once when the client leaves', async () => {
    const { upstream, state } = manualUpstream()
    const client = new AbortController()
    const waiting = awaitFirstEvent(upstream, { timeoutMs: 60_000, signal: client.signal })
    client.abort()
    await expect(waiting).rejects.toMatchObject({ code: 'client_closed' })
    expect(state.cancelled).toBe(true)
  })

  it('passes on a whole answer that ended while its first event was read', async () => {
    const { upstream, send, end } = manualUpstream()
    send(openAI.text('All of it') + openAI.finish() + openAI.done)
    end()
    const out = await readAll(pipeline(await awaitFirstEvent(upstream, options())))
    expect(out).toContain('"text":"All of it"')
    expect(out.match(/^(done|error)\t/gm)).toEqual(['done\t'])
  })

  it("hands on the upstream's own body, unwrapped, with the bytes already read as its head", async () => {
    const { upstream, send, end } = manualUpstream()
    const body = upstream.body
    send(openAI.text('Hi'))
    const opened = await awaitFirstEvent(upstream, options())
    // No JavaScript stream between the upstream and the pipeline: each chunk is read once.
    expect(opened.body).toBe(body)
    expect(new TextDecoder().decode(opened.head)).toBe(openAI.text('Hi'))
    send(openAI.text(' there') + openAI.finish() + openAI.done)
    end()
    const out = await readAll(pipeline(opened))
    expect(out.match(/"text":"[^"]*"/g)).toEqual(['"text":"Hi"', '"text":" there"'])
  })
})
