import { requestUpstream } from '../upstream-request'

/** The floor: forward the request, return the upstream's body untouched. No parsing, no events. */
export default {
  async fetch(request: Request, env: { UPSTREAM_URL: string }): Promise<Response> {
    const { messages } = (await request.json()) as { messages: unknown }
    const upstream = await requestUpstream(env.UPSTREAM_URL, messages)
    return new Response(upstream.body, { headers: { 'Content-Type': 'text/event-stream' } })
  },
}
