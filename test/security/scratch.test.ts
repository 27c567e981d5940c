import { it } from 'vitest'
import { call, streamEnv } from '../streams/helpers'
const o = { toString: 1 }
const paths: Record<string, unknown[]> = {
  '/v1/responses': [
  { model: 'demo', input: [{ role: o, content: [{ type: 'input_text', text: 'hi' }] }] },
  { model: 'demo', input: [{ type: o }] },
  { model: 'demo', input: [{ role: 'user', content: [{ type: o, text: 'hi' }] }] },
  { model: 'demo', input: 'x', tools: [{ type: o }] },
  { model: 'demo', input: [{ type: 'function_call_output', call_id: 'a', output: [{ type: o }] }] },
  ],
  '/v1/chat/completions': [
  { model: 'demo', messages: [{ role: o, content: 'x' }] },
  { model: 'demo', messages: [{ role: 'user', content: [{ type: o }] }] },
  ],
  '/v1/messages': [
  { model: 'demo', max_tokens: 5, messages: [{ role: o, content: 'x' }] },
  { model: 'demo', max_tokens: 5, messages: [{ role: 'user', content: [{ type: o }] }] },
  { model: 'demo', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], tools: [{ type: o }] },
  { model: 'demo', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], tool_choice: { type: o } },
  ],
  '/api/ui/chat': [
  { id: 'c', messages: [{ role: o, parts: [] }] },
  { id: 'c', messages: [{ role: 'user', parts: [{ type: o }] }] },
  ],
  '/api/chat': [
  { messages: [{ role: o, content: 'x' }] },
  { messages: [{ role: 'user', content: [{ type: o }] }] },
  ],
}
it('scratch', async () => {
  for (const [p, bs] of Object.entries(paths)) for (const b of bs) {
    const r = await call(p, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(b) }, streamEnv())
    console.log(r.status, p, JSON.stringify(b).slice(0, 120), (await r.text()).slice(0, 150))
  }
})
