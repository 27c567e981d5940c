import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A loopback upstream whose answers are scripts, for tests that need the bytes of an event stream
 * and their timing exactly: a test registers a script under a word its prompt carries, and the
 * request whose body holds that word is answered by it (`200`, `text/event-stream`, then whatever
 * the script writes, waits for, ends or breaks). The upstream keeps what each script wrote and
 * when its request's connection closed, so the test can compare the client's bytes with the
 * provider's, and see that a client who left was not answered to the end.
 */
export class ScriptedUpstream {
  readonly #scripts = new Map<string, Played>()
  readonly #server: Server = createServer((req, res) => void this.#answer(req, res))

  async start(): Promise<string> {
    this.#server.listen(0, '127.0.0.1')
    await once(this.#server, 'listening')
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections()
    this.#server.close()
    await once(this.#server, 'close')
  }

  /** Answers the request whose body holds `word` with `script`; what it did is in the result. */
  play(word: string, script: Script): Played {
    const played = new Played(script)
    this.#scripts.set(word, played)
    return played
  }

  async #answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    const played = [...this.#scripts].find(([word]) => body.includes(word))?.[1]
    if (!played) {
      res.writeHead(404, { 'Content-Type': 'application/json' })
      return void res.end(JSON.stringify({ error: { message: 'no script for this request', type: 'test' } }))
    }
    await played.run(req, res, body)
  }
}

/** What a script does with its request's response. */
export type Script = (wire: Wire) => Promise<void>

export interface Wire {
  /** Writes `text` and waits `ms` (2 unless told, so events go out in separate packets). */
  write(text: string, ms?: number): Promise<void>
  /** Writes each of `texts` as its own chunk, all at once: a burst faster than any reader. */
  burst(texts: string[]): void
  pause(ms: number): Promise<void>
  /** Ends the body cleanly, whatever was written. */
  end(): void
  /** Breaks the connection with a TCP reset. */
  reset(): void
  /** The gateway has closed the connection (or the script ended it). */
  readonly closed: boolean
}

/** One script's run: its request, what it wrote, and when its connection closed. */
export class Played {
  /** The request's body as the gateway sent it. */
  body = ''
  /** Every byte the script wrote, in order. */
  written = ''
  /** When the request was answered, and when its connection closed (`Date.now()`). */
  startedAt = 0
  closedAt: number | undefined
  readonly #done = deferred()

  constructor(private readonly script: Script) {}

  /** Resolves once the script has returned and the connection has closed. */
  get done(): Promise<void> {
    return this.#done.promise
  }

  async run(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    this.body = body
    this.startedAt = Date.now()
    let closed = false
    const onClose = () => {
      if (closed) return
      closed = true
      this.closedAt = Date.now()
    }
    res.on('close', onClose)
    req.socket.on('close', onClose)
    req.socket.on('error', () => {})
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' })
    res.flushHeaders()
    const wire: Wire = {
      write: async (text, ms = 2) => {
        if (closed) return
        res.write(text)
        this.written += text
        await sleep(ms)
      },
      burst: (texts) => {
        if (closed) return
        for (const text of texts) res.write(text)
        this.written += texts.join('')
      },
      pause: (ms) => sleep(ms),
      end: () => void res.end(),
      reset: () => void req.socket.resetAndDestroy(),
      get closed() {
        return closed
      },
    }
    try {
      await this.script(wire)
    } finally {
      if (!res.writableEnded && !req.socket.destroyed) res.end()
      if (!closed) await once(res, 'close')
      this.#done.release()
    }
  }
}

function deferred() {
  let release!: () => void
  const promise = new Promise<void>((resolve) => (release = resolve))
  return { promise, release }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
