import { EventEmitter, once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { answerAnthropic, CUT_ANSWER, CUT_AT, type AnthropicRequestBody } from './anthropic-upstream'
import { answerResponses, type ResponsesRequestBody } from './responses-upstream'

export { CUT_ANSWER, CUT_AT }
import { CANNED_ANSWERS, longAnswerToken, type CannedAnswer } from './canned-answers'

const FIXTURES = new URL('../fixtures/upstream/openai-chat/', import.meta.url)

const chunk = (payload: object) => `data: ${JSON.stringify({ object: 'chat.completion.chunk', ...payload })}\n\n`
const text = (content: string) => chunk({ choices: [{ index: 0, delta: { content }, finish_reason: null }] })
const finish = chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })
const usage = chunk({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } })
const delta = (d: object, finish_reason: string | null = null) =>
  chunk({ choices: [{ index: 0, delta: d, finish_reason }] })
/** Two parallel calls as OpenAI streams them: id, type and name first, then the arguments in pieces. */
const TOOL_CALLS = [
  delta({ role: 'assistant', content: null }),
  delta({
    tool_calls: [{ index: 0, id: 'call_paris', type: 'function', function: { name: 'get_weather', arguments: '' } }],
  }),
  delta({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
  delta({ tool_calls: [{ index: 0, function: { arguments: ' "Paris"}' } }] }),
  delta({
    tool_calls: [{ index: 1, id: 'call_rome', type: 'function', function: { name: 'get_weather', arguments: '' } }],
  }),
  delta({ tool_calls: [{ index: 1, function: { arguments: '{"city": "Rome"}' } }] }),
  delta({}, 'tool_calls'),
  usage,
  'data: [DONE]\n\n',
]
/** DeepSeek-style thinking (`reasoning_content`) before the answer, with reasoning tokens in usage. */
const REASONING = [
  delta({ role: 'assistant', content: '', reasoning_content: '' }),
  delta({ reasoning_content: 'The user wants a number.' }),
  delta({ reasoning_content: ' Six times seven is 42.' }),
  delta({ content: '42' }),
  delta({}, 'stop'),
  chunk({
    choices: [],
    usage: {
      prompt_tokens: 5,
      completion_tokens: 20,
      total_tokens: 25,
      completion_tokens_details: { reasoning_tokens: 17 },
    },
  }),
  'data: [DONE]\n\n',
]

/** One piece of a "thinking" answer: 120 characters of reasoning. */
export const THINKING_PIECE = 'Hmm, let me think. '.repeat(7).slice(0, 120)
const THINKING_PIECES = 20_000

type ContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } }

export interface RecordedRequest {
  headers: IncomingMessage['headers']
  /** When it arrived (`Date.now()`). */
  at: number
  body: { model: string; messages: Array<{ role: string; content: string | ContentPart[] }>; [key: string]: unknown }
}

/**
 * An OpenAI-compatible upstream on 127.0.0.1 for the tests. The last user message picks how it
 * behaves ("replay:<fixture>", "tools" (two parallel tool calls; once the last message is a tool
 * result, "tool said: <results>"), "reasoning" (reasoning_content,
 * then text), "thinking" (reasoning only, until the gateway hangs up), "gated", "gated-reset" (a
 * token, then a reset once the gate opens), "stall", "reset", "truncate", "malformed",
 * "status:<code>", "cut:<how>" (40 % of an answer, then a reset, truncation, malformed chunk or
 * stall; asked to continue, the rest), "no-headers", "html", "canned:<name>", "tokens:<count>"; "read-file:<path>"
 * anywhere in the text asks for Claude Code's `Read` tool on that path, "run-command:<cmd>" for
 * Codex's `exec_command` with that command; "flaky:<how>:<times>" (the first <times> answers to
 * this exact message fail: "429" with `Retry-After: 1`, "500", "reset" before any byte, "empty":
 * headers, then the end before any event; then it answers), "key-429:<key>" (429 with
 * `Retry-After: 30` to that key, an answer to any other), "silent:<ms>" (headers, then nothing
 * for <ms>, then an answer), "late:<status>:<ms>" (nothing for <ms>, then <status>)), and it counts its open connections
 * and answers, so a
 * test can see when the gateway lets go of one.
 */
export class TestUpstream extends EventEmitter {
  readonly requests: RecordedRequest[] = []
  /** Answers still being written: neither finished nor abandoned. */
  openAnswers = 0
  /** Answers whose connection closed before they were finished: the gateway hung up on them. */
  abandonedAnswers = 0
  /** When the last "tokens:<count>" answer wrote its last byte (`Date.now()`). */
  lastByteAt = 0
  readonly #sockets = new Set<Socket>()
  /** How often each "flaky:" message has failed so far. */
  readonly #failures = new Map<string, number>()
  #gate: { promise: Promise<void>; release: () => void } = deferred()
  readonly #server = createServer((req, res) => void this.#handle(req, res))

  async start(): Promise<string> {
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket)
      socket.on('close', () => this.#sockets.delete(socket))
    })
    this.#server.listen(0, '127.0.0.1')
    await once(this.#server, 'listening')
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    this.#server.close()
  }

  get openConnections(): number {
    return this.#sockets.size
  }

  /** Lets a "gated" answer go on past its first token. */
  releaseGate(): void {
    this.#gate.release()
    this.#gate = deferred()
  }

  /** Resolves once `predicate` holds, checking whenever an answer opens or closes. */
  async until(predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('TestUpstream.until: timed out')
      // Wake on the next change, or after 50 ms at most (the listener is removed either way).
      await once(this, 'change', { signal: AbortSignal.timeout(50) }).catch(() => {})
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = ''
    for await (const piece of req) raw += piece
    const body = JSON.parse(raw) as RecordedRequest['body']
    this.requests.push({ headers: req.headers, body, at: Date.now() })
    this.openAnswers++
    this.emit('change')
    res.on('close', () => {
      this.openAnswers--
      if (!res.writableFinished) this.abandonedAnswers++
      this.emit('change')
    })

    // Anthropic's API, for the models configured with the anthropic adapter (see ./anthropic-upstream.ts).
    const path = new URL(req.url ?? '/', 'http://upstream').pathname
    if (path.startsWith('/v1/messages')) return answerAnthropic(path, body as AnthropicRequestBody, res)
    // OpenAI's Responses API, for the models configured with `api = "responses"` (see ./responses-upstream.ts).
    if (path.startsWith('/v1/responses')) return answerResponses(path, body as ResponsesRequestBody, res)
    // A base URL under `/down` is an upstream that is unavailable, for fallbacks.
    if (path.startsWith('/down/')) {
      res.writeHead(503, { 'Content-Type': 'application/json' })
      return void res.end(JSON.stringify({ error: { message: 'down for the test', type: 'server_error' } }))
    }

    const content = body.messages.findLast((m) => m.role === 'user')?.content ?? ''
    const scenario =
      typeof content === 'string' ? content : content.map((part) => (part.type === 'text' ? part.text : '')).join('')
    const [name, argument] = scenario.split(':', 2) as [string, string | undefined]
    const stream = () => res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' })

    // A tool loop's next step: the model answers from the tools' results.
    if (body.messages.at(-1)?.role === 'tool') {
      stream()
      const results = body.messages.filter((m) => m.role === 'tool').map((m) => m.content)
      res.write(text(`tool said: ${results.join(', ')}`) + finish + usage + 'data: [DONE]\n\n')
      return void res.end()
    }

    // An agent's prompt comes wrapped in its own reminders: look for the scenario anywhere in it.
    const readFile = /read-file:(\S+)/.exec(scenario)
    const runCommand = /run-command:([^\n]+)/.exec(scenario)
    if (readFile || runCommand) {
      stream()
      const name = readFile ? 'Read' : 'exec_command'
      const call = { index: 0, id: 'call_agent', type: 'function', function: { name, arguments: '' } }
      res.write(delta({ role: 'assistant', content: null }) + delta({ tool_calls: [call] }))
      const args = JSON.stringify(readFile ? { file_path: readFile[1] } : { cmd: runCommand![1] })
      res.write(delta({ tool_calls: [{ index: 0, function: { arguments: args } }] }))
      res.write(delta({}, 'tool_calls') + usage + 'data: [DONE]\n\n')
      return void res.end()
    }

    switch (name) {
      case 'replay': {
        stream()
        const recording = readFileSync(new URL(argument!, FIXTURES), 'utf8')
        for (const event of recording.split(/(?<=\n\n)/)) {
          res.write(event)
          await sleep(2)
        }
        return void res.end()
      }
      case 'tools':
      case 'reasoning':
        stream()
        for (const event of name === 'tools' ? TOOL_CALLS : REASONING) {
          res.write(event)
          await sleep(2)
        }
        return void res.end()
      case 'thinking': {
        // A model that thinks and never gets to its answer: a piece of reasoning every few ms
        // until the gateway hangs up (at most THINKING_PIECES, then it gives up without an end).
        stream()
        let open = true
        res.on('close', () => (open = false))
        for (let piece = 0; open && piece < THINKING_PIECES; piece++) {
          res.write(delta({ reasoning_content: THINKING_PIECE }))
          await sleep(5)
        }
        return void res.end()
      }
      case 'gated':
        stream()
        res.write(text('First'))
        await this.#gate.promise
        res.write(text(' and the rest.') + finish + usage + 'data: [DONE]\n\n')
        return void res.end()
      case 'gated-reset':
        stream()
        res.write(text('First'))
        await this.#gate.promise
        return void req.socket.resetAndDestroy()
      case 'stall':
        stream()
        res.write(text('Thinking'))
        return // and never another byte, until someone hangs up
      case 'reset':
        stream()
        res.write(text('Half an ans'))
        await sleep(20)
        return void req.socket.resetAndDestroy()
      case 'truncate':
        stream()
        res.write(text('Cut short'))
        return void res.end()
      case 'malformed':
        stream()
        res.write(text('Fine so far') + 'data: {"choices": [oops\n\n')
        return void res.end()
      case 'status': {
        const status = Number.parseInt(argument!, 10)
        const headers: Record<string, string> = { 'Content-Type': 'application/json' }
        if (status === 429 || status === 503) headers['Retry-After'] = '12'
        res.writeHead(status, headers)
        return void res.end(JSON.stringify({ error: { message: `upstream says ${status}`, type: 'test' } }))
      }
      case 'canned': {
        // In pieces of 7 characters, so tags and fences are split across deltas.
        stream()
        const answer = CANNED_ANSWERS[argument as CannedAnswer]
        for (let at = 0; at < answer.length; at += 7) res.write(text(answer.slice(at, at + 7)))
        res.write(finish + usage + 'data: [DONE]\n\n')
        return void res.end()
      }
      case 'tokens': {
        // As fast as the connection takes them: one chunk per token, waiting only on backpressure.
        stream()
        for (let index = 0; index < Number(argument); index++) {
          if (!res.write(text(longAnswerToken(index)))) await once(res, 'drain')
        }
        res.end(finish + usage + 'data: [DONE]\n\n', () => (this.lastByteAt = Date.now()))
        return
      }
      case 'flaky': {
        const [, how, times] = scenario.split(':') as [string, string, string]
        const failed = this.#failures.get(scenario) ?? 0
        if (failed < Number.parseInt(times, 10)) {
          this.#failures.set(scenario, failed + 1)
          if (how === 'reset') return void req.socket.resetAndDestroy()
          if (how === 'empty') {
            stream()
            return void res.end()
          }
          const headers: Record<string, string> = { 'Content-Type': 'application/json' }
          if (how === '429') headers['Retry-After'] = '1'
          res.writeHead(Number(how), headers)
          return void res.end(JSON.stringify({ error: { message: `flaky upstream says ${how}`, type: 'test' } }))
        }
        stream()
        res.write(text(`echo: ${scenario}`) + finish + usage + 'data: [DONE]\n\n')
        return void res.end()
      }
      case 'key-429':
        if (req.headers.authorization === `Bearer ${argument}`) {
          res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '30' })
          return void res.end(JSON.stringify({ error: { message: 'this key is rate limited', type: 'test' } }))
        }
        stream()
        res.write(text(`echo: ${scenario}`) + finish + usage + 'data: [DONE]\n\n')
        return void res.end()
      case 'cached':
        // OpenAI's usage once a prompt's prefix is cached: `cached_tokens`, a part of `prompt_tokens`.
        stream()
        res.write(
          text('cached answer') +
            finish +
            chunk({
              choices: [],
              usage: {
                prompt_tokens: 40,
                completion_tokens: 2,
                total_tokens: 42,
                prompt_tokens_details: { cached_tokens: 24 },
              },
            }) +
            'data: [DONE]\n\n',
        )
        return void res.end()
      case 'cut': {
        // An answer that dies after about 40 % of its text; asked to continue it (the partial
        // answer as the last, assistant, message), the rest of it, and nothing said twice.
        stream()
        const last = body.messages.at(-1)
        const continuing = last?.role === 'assistant' && typeof last.content === 'string'
        const from = continuing ? (last.content as string).length : 0
        const upTo = continuing ? CUT_ANSWER.length : CUT_AT
        if (continuing && !CUT_ANSWER.startsWith(last.content as string)) {
          res.write(text(`[not a continuation of the answer: ${JSON.stringify(last.content)}]`))
        } else {
          for (let at = from; at < upTo; at += 7) res.write(text(CUT_ANSWER.slice(at, Math.min(at + 7, upTo))))
        }
        if (continuing) return void res.end(finish + usage + 'data: [DONE]\n\n')
        // Long enough for a reader to leave and come back across the cut.
        await sleep(300)
        if (argument === 'reset') return void req.socket.resetAndDestroy()
        if (argument === 'malformed') return void res.end('data: {"choices": [oops\n\n')
        if (argument === 'stall') return // and never another byte
        return void res.end() // truncate: no finish, no [DONE]
      }
      case 'no-headers':
        return // never answers
      case 'silent': {
        // A model that thinks unseen before its first token: headers, then nothing for <ms>.
        stream()
        await sleep(Number(argument))
        res.write(text(`echo: ${scenario}`) + finish + usage + 'data: [DONE]\n\n')
        return void res.end()
      }
      case 'late': {
        // A refusal after a wait: nothing for <ms>, then <status>.
        const [, status, ms] = scenario.split(':') as [string, string, string]
        await sleep(Number(ms))
        res.writeHead(Number(status), { 'Content-Type': 'application/json' })
        return void res.end(JSON.stringify({ error: { message: `upstream says ${status}, late`, type: 'test' } }))
      }
      case 'html':
        res.writeHead(200, { 'Content-Type': 'text/html' })
        return void res.end('<html>login page</html>')
      default:
        stream()
        res.write(text(`echo: ${scenario}`) + finish + usage + 'data: [DONE]\n\n')
        return void res.end()
    }
  }
}

/**
 * One attempt per answer and a circuit that never opens: the tests that use `testModels` check
 * what one upstream failure becomes, and share one upstream model, which a circuit opened by one
 * test would take from the next. Retries and circuit breaking have their own (resilience.test.ts).
 */
const SINGLE_ATTEMPT = { retries: 0, circuit_breaker: { failures: 1_000_000 } }

/**
 * The gateway's MODELS for a test run: `upstream` served by this upstream, and the demo model.
 * `apiKeySecret` names the secret the upstream model's key is read from, when the test sets one;
 * `anthropicKeySecret`, when given, adds `claude`, this upstream speaking Anthropic's API.
 */
export function testModels(upstreamUrl: string, apiKeySecret?: string, anthropicKeySecret?: string): string {
  return JSON.stringify({
    upstream: {
      adapter: 'openai',
      base_url: upstreamUrl,
      upstream_model: 'test-model',
      api_key_secret: apiKeySecret,
      ...SINGLE_ATTEMPT,
    },
    ...(anthropicKeySecret && {
      claude: {
        adapter: 'anthropic',
        base_url: upstreamUrl,
        upstream_model: 'claude-upstream',
        api_key_secret: anthropicKeySecret,
        ...SINGLE_ATTEMPT,
      },
    }),
    demo: { adapter: 'demo', token_delay_ms: 1 },
  })
}

function deferred() {
  let release!: () => void
  const promise = new Promise<void>((resolve) => (release = resolve))
  return { promise, release }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
