import { request } from 'node:http'

export interface Answer {
  body: string
  wallMs: number
  /** The response's headers (a resumable stream's Location). */
  headers: Record<string, string | string[] | undefined>
}

/**
 * POSTs a chat to a contender and reads the whole answer, on a socket of its own (no pooling,
 * so 1,000 concurrent streams are 1,000 connections). `onChunk` sees every chunk as it arrives.
 */
export function ask(
  url: string,
  content: string,
  {
    onResponse,
    onChunk,
    signal,
    path = '/api/chat',
    headers = {},
    body = (text: string) => ({ messages: [{ role: 'user', content: text }] }),
  }: {
    /** Called when the response's headers have arrived: the stream is open for the client. */
    onResponse?: () => void
    onChunk?: (text: string) => void
    signal?: AbortSignal
    path?: string
    headers?: Record<string, string>
    /** The request body for a message, when not `/api/chat`'s. */
    body?: (content: string) => object
  } = {},
): Promise<Answer> {
  const started = performance.now()
  const payload = JSON.stringify(body(content))
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      { method: 'POST', agent: false, headers: { 'Content-Type': 'application/json', ...headers }, signal },
      (res) => {
        onResponse?.()
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (text: string) => {
          body += text
          onChunk?.(text)
        })
        res.on('end', () => resolve({ body, wallMs: performance.now() - started, headers: res.headers }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}

export interface Replay {
  /** From the request to the first event's bytes. */
  firstEventMs: number
  /** From the request to the end of the body. */
  wholeMs: number
  body: string
}

/** GETs a resumable stream from its start (or where `streamUrl` says), timing its first event and its end. */
export function replay(streamUrl: string, headers: Record<string, string> = {}): Promise<Replay> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const req = request(streamUrl, { agent: false, headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
      let body = ''
      let firstEventMs = -1
      res.setEncoding('utf8')
      res.on('data', (text: string) => {
        body += text
        if (firstEventMs < 0 && body.includes('\n\n')) firstEventMs = performance.now() - started
      })
      res.on('end', () => resolve({ firstEventMs, wholeMs: performance.now() - started, body }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}
