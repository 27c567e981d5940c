import type { ChatRequest } from '../request/chat-request'
import { ChatStreamError, refusal, request } from './errors'
import { readEvents, type ChatStreamEvent, type ConnectionHints } from './read-events'
import type { StreamChatOptions } from './stream-chat'

export interface ResumableChatOptions extends Omit<StreamChatOptions, 'signal'> {
  /**
   * Aborting it stops reading here and closes the connection. The answer goes on at the gateway,
   * for a later `resumeChat`; `stop()` is what cancels it.
   */
  signal?: AbortSignal
  /** Reconnections in a row that bring no new event before giving up (default 5). */
  maxReconnects?: number
  /** Wait before reconnecting until the stream's `retry:` hint says otherwise (default 1000 ms). */
  retryMs?: number
  /** Called before each reconnection, with its number in the current run of failures. */
  onReconnect?: (attempt: number) => void
}

/**
 * An answer that outlives connections. Iterate it for one gapless, duplicate-free sequence of
 * events, however often the connection drops on the way.
 */
export interface ResumableChat extends AsyncIterable<ChatStreamEvent> {
  /** The stream's id: keep it to resume after a reload (`resumeChat`). */
  readonly id: string
  readonly url: string
  /** The last event received; 0 before the first. */
  readonly lastEventId: number
  /** Stops the answer at the gateway: the upstream is cancelled and the stream ends in `cancelled`. */
  stop(): Promise<void>
}

/**
 * Starts an answer with `POST /api/streams`. Resolves once the gateway has accepted it (a refusal
 * throws `ChatStreamError` of kind `http`); the first connection is the POST's own response.
 */
export async function startResumableChat(
  chat: ChatRequest,
  options: ResumableChatOptions = {},
): Promise<ResumableChat> {
  const { baseUrl = '', headers, signal, fetch: fetchImpl = globalThis.fetch } = options
  const response = await request(fetchImpl, `${baseUrl}/api/streams`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream', ...headers },
    body: JSON.stringify(chat),
    signal,
  })
  if (!response.ok) throw await refusal(response)
  const location = response.headers.get('Location')
  if (!location) {
    await response.body?.cancel()
    throw new ChatStreamError('content_type', 'The gateway did not say where the stream is (no Location header).')
  }
  const url = new URL(location, response.url || pageUrl()).href
  return new Resumable(url, 0, options, response)
}

/** Reads an existing stream, from after `lastEventId` (default: from the start, the whole answer). */
export function resumeChat(id: string, options: ResumableChatOptions & { lastEventId?: number } = {}): ResumableChat {
  const url = new URL(`${options.baseUrl ?? ''}/api/streams/${encodeURIComponent(id)}`, pageUrl()).href
  return new Resumable(url, options.lastEventId ?? 0, options)
}

class Resumable implements ResumableChat {
  readonly id: string
  #lastEventId: number
  #firstResponse: Response | undefined

  constructor(
    readonly url: string,
    lastEventId: number,
    private readonly options: ResumableChatOptions,
    firstResponse?: Response,
  ) {
    this.id = decodeURIComponent(new URL(url).pathname.split('/').pop()!)
    this.#lastEventId = lastEventId
    this.#firstResponse = firstResponse
  }

  get lastEventId(): number {
    return this.#lastEventId
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ChatStreamEvent, void, undefined> {
    const { signal, maxReconnects = 5, onReconnect } = this.options
    const hints: ConnectionHints = { retryMs: this.options.retryMs ?? 1000 }
    let failures = 0
    for (;;) {
      try {
        const response = this.#firstResponse ?? (await this.#reconnect())
        this.#firstResponse = undefined
        // 204: the stream ended and this reader has its terminal event; nothing more will come.
        if (!response) return
        for await (const event of readEvents(response, signal, hints)) {
          // A replay starts after the last id sent, so this only guards against a server bug.
          if (event.id <= this.#lastEventId) continue
          this.#lastEventId = event.id
          failures = 0
          yield event
        }
        return
      } catch (error) {
        if (!isWorthRetrying(error) || ++failures > maxReconnects) throw error
        onReconnect?.(failures)
        await delay(hints.retryMs!, signal)
      }
    }
  }

  async stop(): Promise<void> {
    const { headers, fetch: fetchImpl = globalThis.fetch } = this.options
    const response = await request(fetchImpl, this.url, { method: 'DELETE', headers })
    if (!response.ok && response.status !== 404) throw await refusal(response)
  }

  /** A new connection from the last event received, or null when the stream has nothing more. */
  async #reconnect(): Promise<Response | null> {
    const { headers, signal, fetch: fetchImpl = globalThis.fetch } = this.options
    const response = await request(fetchImpl, this.url, {
      headers: { Accept: 'text/event-stream', 'Last-Event-ID': String(this.#lastEventId), ...headers },
      signal,
    })
    if (response.status === 204) return null
    if (!response.ok) throw await refusal(response)
    return response
  }
}

/** Relative URLs resolve against the page, in a browser; elsewhere `baseUrl` must be absolute. */
const pageUrl = () => (globalThis as { location?: { href: string } }).location?.href

/** A cut connection, an unreachable gateway, or a refusal it says may pass (a 503 in a deploy). */
function isWorthRetrying(error: unknown): boolean {
  if (!(error instanceof ChatStreamError)) return false
  return error.kind === 'truncated' || error.kind === 'network' || (error.kind === 'http' && error.retryable)
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted()
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        reject(signal.reason)
      },
      { once: true },
    )
  })
}
