import { request } from 'node:http'

export interface Answer {
  body: string
  wallMs: number
}

/**
 * POSTs a chat to a contender and reads the whole answer, on a socket of its own (no pooling,
 * so 1,000 concurrent streams are 1,000 connections). `onChunk` sees every chunk as it arrives.
 */
export function ask(
  url: string,
  content: string,
  { onChunk, signal }: { onChunk?: (text: string) => void; signal?: AbortSignal } = {},
): Promise<Answer> {
  const started = performance.now()
  const payload = JSON.stringify({ messages: [{ role: 'user', content }] })
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/api/chat`,
      { method: 'POST', agent: false, headers: { 'Content-Type': 'application/json' }, signal },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (text: string) => {
          body += text
          onChunk?.(text)
        })
        res.on('end', () => resolve({ body, wallMs: performance.now() - started }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}
