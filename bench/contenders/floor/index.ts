/** The floor: forward the request, return the upstream's body untouched. No parsing, no events. */
export default {
  async fetch(request: Request, env: { UPSTREAM_URL: string }): Promise<Response> {
    const { messages } = (await request.json()) as { messages: unknown }
    const upstream = await fetch(`${env.UPSTREAM_URL}/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'bench', messages, stream: true }),
    })
    return new Response(upstream.body, { headers: { 'Content-Type': 'text/event-stream' } })
  },
}
