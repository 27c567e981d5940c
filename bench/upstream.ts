import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * The benchmark's OpenAI-compatible upstream on 127.0.0.1. The last user message says what to
 * send: `burst:N` (N tokens as fast as the socket takes them), `paced:N:MS:RUN` (a token every MS
 * milliseconds, noting when each was written), `once429:N:<id>` (a 429 with `Retry-After: 0` the
 * first time, then `burst:N`) or `silent` (headers and one token, then nothing until hung up).
 * Chunks are shaped like the recordings in ../shared/fixtures/upstream/openai-chat (~230 bytes).
 * On `/responses` it speaks OpenAI's Responses API instead, the same tokens as
 * `response.output_text.delta` events shaped like test/fixtures/upstream/openai-responses; on
 * `/messages`, Anthropic's Messages stream, the same tokens as `text_delta`s, for the `anthropic`
 * adapter (`ours-messages-pass`).
 */
export class BenchUpstream {
  /** For paced runs: run id -> the time (performance.now()) each token was written. */
  readonly writeTimes = new Map<string, number[]>()
  readonly #silent = new Set<ServerResponse>()
  /** `once429:` messages already refused once. */
  readonly #refused = new Set<string>()
  readonly #server = createServer((req, res) => void this.#handle(req, res))

  async start(): Promise<string> {
    this.#server.listen(0, '127.0.0.1')
    await once(this.#server, 'listening')
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`
  }

  /** Silent answers still open. */
  get silentOpen(): number {
    return this.#silent.size
  }

  /**
   * Ends every silent answer. A Worker that never writes to a client that left (no heartbeats)
   * never notices it left, so without this its upstream requests would stay open for good.
   */
  endSilent(): void {
    for (const res of this.#silent) res.end()
  }

  stop(): void {
    this.#server.closeAllConnections()
    this.#server.close()
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = ''
    for await (const piece of req) raw += piece
    const request = JSON.parse(raw) as { messages?: Array<{ role: string; content: unknown }>; input?: unknown }
    const responses = req.url?.endsWith('/responses') === true
    const messages = req.url?.endsWith('/messages') === true
    const content = responses ? request.input : request.messages!.findLast((m) => m.role === 'user')?.content
    const command = typeof content === 'string' ? content : ((content as Array<{ text?: string }>)[0]?.text ?? '')
    const [mode, count, pace, run] = command.split(':')
    if (mode === 'once429' && !this.#refused.has(command)) {
      // The first request for this message is rate limited, with no wait asked: the gateway retries at once.
      this.#refused.add(command)
      res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '0' })
      return void res.end(JSON.stringify({ error: { message: 'rate limited', type: 'requests' } }))
    }
    const wire = responses ? responsesWire() : messages ? messagesWire : chatWire
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' })
    res.write(wire.start)

    if (mode === 'silent') {
      // One token first: the gateway starts its answer on the upstream's first event (the first
      // token decides), so an upstream silent from the start would never open a stream at all.
      res.write(wire.token(0))
      this.#silent.add(res)
      res.on('close', () => this.#silent.delete(res))
      return
    }
    const tokens = Number(count)
    const times: number[] = []
    if (mode === 'paced') this.writeTimes.set(run!, times)
    for (let i = 0; i < tokens; i++) {
      if (mode === 'paced') await new Promise((resolve) => setTimeout(resolve, Number(pace)))
      if (res.destroyed) return
      times.push(performance.now())
      if (!res.write(wire.token(i))) await once(res, 'drain')
    }
    res.end(wire.end(tokens))
  }
}

/** The i-th token: unique, so a client can tell which one it is looking at in any wire format. */
export const token = (i: number) => `w${i} `

/** The whole text of an answer of `n` tokens. */
export const expectedText = (n: number) => Array.from({ length: n }, (_, i) => token(i)).join('')

const base = { id: 'chatcmpl-bench0000000000000000000', object: 'chat.completion.chunk', created: 1723031664 }

function chunk(delta: object, finishReason: string | null = null): string {
  const body = {
    ...base,
    model: 'gpt-4o-2024-08-06',
    system_fingerprint: 'fp_845eaabc1f',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  }
  return `data: ${JSON.stringify(body)}\n\n`
}

function usageChunk(tokens: number): string {
  const body = {
    ...base,
    model: 'gpt-4o-2024-08-06',
    choices: [],
    usage: { prompt_tokens: 5, completion_tokens: tokens, total_tokens: tokens + 5 },
  }
  return `data: ${JSON.stringify(body)}\n\n`
}

/** What an answer is written as: its opening, each token, and its end with usage. */
interface Wire {
  start: string
  token(i: number): string
  end(tokens: number): string
}

const chatWire: Wire = {
  start: chunk({ role: 'assistant', content: '' }),
  token: (i) => chunk({ content: token(i) }),
  end: (tokens) => chunk({}, 'stop') + usageChunk(tokens) + 'data: [DONE]\n\n',
}

/** OpenAI's Responses stream, numbered as OpenAI numbers it. */
function responsesWire(): Wire {
  let sequence = 0
  const event = (type: string, data: object) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, ...data, sequence_number: sequence++ })}\n\n`
  const response = { id: 'resp_bench0000000000000000000', object: 'response', created_at: 1723031664, model: 'gpt-5' }
  const item = { id: 'msg_bench0000000000000000000', type: 'message', role: 'assistant', status: 'in_progress' }
  return {
    start:
      event('response.created', { response: { ...response, status: 'in_progress', output: [] } }) +
      event('response.output_item.added', { item: { ...item, content: [] }, output_index: 0 }),
    token: (i) =>
      event('response.output_text.delta', {
        content_index: 0,
        delta: token(i),
        item_id: item.id,
        logprobs: [],
        output_index: 0,
      }),
    end: (tokens) =>
      event('response.completed', {
        response: {
          ...response,
          status: 'completed',
          usage: {
            input_tokens: 5,
            input_tokens_details: { cached_tokens: 0 },
            output_tokens: tokens,
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: tokens + 5,
          },
        },
      }),
  }
}

const anthropicEvent = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`

/** Anthropic's Messages stream, shaped like its recordings: one text block, a `text_delta` per token. */
const messagesWire: Wire = {
  start:
    anthropicEvent('message_start', {
      message: {
        id: 'msg_bench00000000000000000000',
        type: 'message',
        role: 'assistant',
        model: 'claude-bench',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 5, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, output_tokens: 1 },
      },
    }) + anthropicEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  token: (i) => anthropicEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: token(i) } }),
  end: (tokens) =>
    anthropicEvent('content_block_stop', { index: 0 }) +
    anthropicEvent('message_delta', {
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: tokens },
    }) +
    anthropicEvent('message_stop', {}),
}
