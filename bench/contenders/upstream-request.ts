/** How every hand-written contender asks the bench upstream: the same OpenAI streaming request. */
export function requestUpstream(upstreamUrl: string, messages: unknown): Promise<Response> {
  return fetch(`${upstreamUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'bench', messages, stream: true }),
  })
}
