import { EventSourceParserStream } from 'eventsource-parser/stream'
import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import { requestUpstream } from '../upstream-request'

/** The tutorial way: Hono streamSSE, eventsource-parser, JSON.parse per chunk, writeSSE per token. */
const app = new Hono<{ Bindings: { UPSTREAM_URL: string } }>()

app.post('/api/chat', async (c) => {
  const { messages } = await c.req.json<{ messages: unknown }>()
  const upstream = await requestUpstream(c.env.UPSTREAM_URL, messages)
  return streamSSE(c, async (stream) => {
    const events = upstream.body!.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream())
    for await (const event of events) {
      if (event.data === '[DONE]') break
      const chunk = JSON.parse(event.data)
      const text = chunk.choices[0]?.delta?.content
      if (text) await stream.writeSSE({ event: 'delta', data: JSON.stringify({ text }) })
    }
    await stream.writeSSE({ event: 'done', data: '{}' })
  })
})

export default app
