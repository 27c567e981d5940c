import { describe, expect, it } from 'vitest'
import { continuing, MAX_CONTINUATIONS } from '../../src/pipeline/continuation'
import { awaitFirstEvent } from '../../src/pipeline/first-event'
import type { UpstreamEvent, UpstreamStream } from '../../src/providers/types'
import { manualUpstream, openAI } from '../helpers/upstream'

/** Every event the continuing stream hands the pipeline, in order (its empty "still waiting" batches left out). */
async function eventsOf(stream: UpstreamStream): Promise<UpstreamEvent[]> {
  const reader = stream.body.getReader()
  const events: UpstreamEvent[] = []
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return events
    events.push(...stream.decoder.decode(value))
    if (events.some((e) => e.type === 'done' || e.type === 'error')) return events
  }
}

const textOf = (events: UpstreamEvent[]) => events.map((e) => (e.type === 'text' ? e.text : '')).join('')
const terminals = (events: UpstreamEvent[]) => events.filter((e) => e.type === 'done' || e.type === 'error')

/** An upstream that sends `body` and ends. */
function answering(body: string): UpstreamStream {
  const upstream = manualUpstream()
  upstream.send(body)
  upstream.end()
  return upstream.upstream
}

/** The same, opened as the gateway opens it: read up to its first event, which becomes its `head`. */
function opened(body: string, more: string): Promise<UpstreamStream> {
  const upstream = manualUpstream()
  upstream.send(body)
  const stream = awaitFirstEvent(upstream.upstream, { timeoutMs: 5000, signal: new AbortController().signal })
  return stream.then((stream) => {
    upstream.send(more)
    upstream.end()
    return stream
  })
}

describe('continuing', () => {
  it('reads what was read before the first event, then the body, of the answer and of its continuation', async () => {
    const first = await opened(openAI.text('Hello '), openAI.text('wor'))
    expect(first.head).toBeDefined()
    const stream = continuing(first, {
      idleTimeoutMs: 5000,
      reopen: () => opened(openAI.text('ld'), openAI.text(' and more.') + openAI.finish() + openAI.done),
    })
    const events = await eventsOf(stream)
    expect(textOf(events)).toBe('Hello world and more.')
    expect(terminals(events)).toEqual([{ type: 'done', finishReason: 'stop' }])
  })

  it('continues a truncated answer from its partial text, without repeating the whitespace it was sent without', async () => {
    const first = answering(openAI.text('Hello ') + openAI.text('wor'))
    const partials: string[] = []
    const stream = continuing(first, {
      idleTimeoutMs: 5000,
      reopen: async (partial) => {
        partials.push(partial)
        return answering(openAI.text('ld and more.') + openAI.finish() + openAI.usage(20, 4) + openAI.done)
      },
    })
    const events = await eventsOf(stream)
    expect(partials).toEqual(['Hello wor'])
    expect(textOf(events)).toBe('Hello world and more.')
    expect(terminals(events)).toEqual([{ type: 'done', finishReason: 'stop' }])
  })

  it('takes the trailing whitespace off the partial, and the same whitespace off the continuation', async () => {
    const first = answering(openAI.text('Hello '))
    const partials: string[] = []
    const stream = continuing(first, {
      idleTimeoutMs: 5000,
      reopen: async (partial) => {
        partials.push(partial)
        return answering(openAI.text(' ') + openAI.text('world.') + openAI.finish() + openAI.done)
      },
    })
    const events = await eventsOf(stream)
    expect(partials).toEqual(['Hello'])
    expect(textOf(events)).toBe('Hello world.')
    // The space the continuation began with was already sent: dropped, not sent as an empty piece.
    expect(events.filter((e) => e.type === 'text')).toEqual([
      { type: 'text', text: 'Hello ' },
      { type: 'text', text: 'world.' },
    ])
  })

  it('charges the dead attempt too: its output estimated, its prompt the continuation’s less the partial', async () => {
    const first = answering(openAI.text('x'.repeat(40)))
    const stream = continuing(first, {
      idleTimeoutMs: 5000,
      reopen: async () => answering(openAI.text('y') + openAI.finish() + openAI.usage(110, 5) + openAI.done),
    })
    const usage = (await eventsOf(stream)).find((e) => e.type === 'usage')
    // 40 characters: 10 tokens said before the cut; the first prompt was 110 - 10.
    expect(usage).toEqual({
      type: 'usage',
      usage: { prompt_tokens: 210, completion_tokens: 15, total_tokens: 225 },
    })
  })

  it('continues after a connection that breaks, and after silence past the idle timeout', async () => {
    const broken = manualUpstream()
    broken.send(openAI.text('One, '))
    const silent = manualUpstream()
    silent.send(openAI.text('two, '))
    const replies = [silent.upstream, answering(openAI.text('three.') + openAI.finish() + openAI.done)]
    const stream = continuing(broken.upstream, { idleTimeoutMs: 200, reopen: async () => replies.shift()! })
    const reading = eventsOf(stream)
    setTimeout(() => broken.fail(new Error('reset')), 10)
    const events = await reading
    expect(textOf(events)).toBe('One, two, three.')
    expect(terminals(events)).toHaveLength(1)
    expect(silent.state.cancelled).toBe(true)
  })

  it(`gives up after ${MAX_CONTINUATIONS} continuations with the error of the last cut`, async () => {
    let reopened = 0
    const stream = continuing(answering(openAI.text('a')), {
      idleTimeoutMs: 5000,
      reopen: async () => {
        reopened++
        return answering(openAI.text('b'))
      },
    })
    const events = await eventsOf(stream)
    expect(reopened).toBe(MAX_CONTINUATIONS)
    expect(textOf(events)).toBe('a' + 'b'.repeat(MAX_CONTINUATIONS))
    expect(terminals(events)).toEqual([expect.objectContaining({ type: 'error', code: 'upstream_truncated' })])
  })

  it('ends in the cut’s error when no upstream will continue', async () => {
    const stream = continuing(answering(openAI.text('a')), {
      idleTimeoutMs: 5000,
      reopen: async () => {
        throw new Error('every upstream refused')
      },
    })
    expect(terminals(await eventsOf(stream))).toEqual([expect.objectContaining({ code: 'upstream_truncated' })])
  })

  it('a reader that leaves while the continuation opens stops it, and the continuation once open', async () => {
    let opened!: (stream: UpstreamStream) => void
    let stopped: AbortSignal | undefined
    const stream = continuing(answering(openAI.text('a')), {
      idleTimeoutMs: 5000,
      reopen: (_partial, signal) => {
        stopped = signal
        return new Promise((resolve) => (opened = resolve))
      },
    })
    const reader = stream.body.getReader()
    await reader.read() // the partial answer
    const waiting = reader.read() // the cut, and the continuation being opened
    await expect.poll(() => stopped).toBeDefined()
    await reader.cancel()
    expect(stopped!.aborted).toBe(true)
    const late = manualUpstream()
    opened(late.upstream)
    await expect.poll(() => late.state.cancelled).toBe(true)
    await waiting
  })

  for (const [what, body] of [
    ['a tool call half sent', openAI.text('Let me look. ') + openAI.toolCall(0, '{"city":', 'call_1', 'weather')],
    ['reasoning', openAI.reasoning('Thinking about it') + openAI.text('The ans')],
  ] as const) {
    it(`never continues after ${what}: the answer ends in error as without the setting`, async () => {
      let reopened = 0
      const stream = continuing(answering(body), {
        idleTimeoutMs: 5000,
        reopen: async () => {
          reopened++
          return answering(openAI.text('x') + openAI.finish() + openAI.done)
        },
      })
      expect(terminals(await eventsOf(stream))).toEqual([expect.objectContaining({ code: 'upstream_truncated' })])
      expect(reopened).toBe(0)
    })
  }
})
