import { requestUpstream } from '../upstream-request'

/**
 * A second baseline: the floor, but every upstream chunk passes through JavaScript (read, then
 * enqueued) with no parsing at all. It shows what touching each chunk costs by itself.
 */
export default {
  async fetch(request: Request, env: { UPSTREAM_URL: string }): Promise<Response> {
    const { messages } = (await request.json()) as { messages: unknown }
    const upstream = await requestUpstream(env.UPSTREAM_URL, messages)
    const reader = upstream.body!.getReader()
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await reader.read()
        if (done) controller.close()
        else controller.enqueue(value)
      },
      cancel: (reason) => reader.cancel(reason),
    })
    return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } })
  },
}
