import { afterEach, describe, expect, it, vi } from 'vitest'
import { openAI } from '../helpers/upstream'
import { call, read, streamEnv, until } from '../streams/helpers'

/**
 * Issue 19, finding 1: an upstream's error text reached clients word for word (a key it was
 * given, the organisation behind the gateway, the address of an internal host). Every surface
 * now answers with our code and message; a 400's reason is passed on scrubbed; the upstream's
 * own text is only in the log, without its secrets.
 */
const KEY_400 =
  'Incorrect API key provided: sk-abc***xyz (via proxy http://10.0.0.5:8000/v1 for user ops@corp.example.com)'
const ORG_429 =
  'Rate limit reached for gpt-4o in organization org-AbCdEf123456 on tokens per min (TPM): Limit 30000, Used 29000.'
const HOST_503 = 'upstream connect error: http://internal-vllm.svc.cluster.local:8000 refused (10.1.2.3, fd00::1)'
const BAD_PARAM_400 =
  "Invalid value for 'temperature' at messages.0.content: see https://platform.openai.com/docs for key sk-proj-Zz9yXx8wWv7uUt6sSr5"

/** What none of the client's bytes may contain. */
const LEAKS = [
  'sk-abc',
  'sk-proj',
  '10.0.0.5',
  'ops@corp',
  'org-AbCdEf',
  'internal-vllm',
  'cluster.local',
  '10.1.2.3',
  'fd00::1',
  'platform.openai.com',
]

const env = () =>
  streamEnv({
    MODELS: { gpt: { adapter: 'openai', base_url: 'https://upstream.test/v1', upstream_model: 'm' } },
    DEFAULT_MODEL: 'gpt',
  })

function refusing(status: number, message: string) {
  vi.spyOn(globalThis, 'fetch').mockImplementation(
    async () =>
      new Response(JSON.stringify({ error: { message, type: 'invalid_request_error' } }), {
        status,
        headers: { 'Content-Type': 'application/json' },
      }),
  )
}

function failingMidStream(message: string, type = 'server_error') {
  const body = openAI.text('Hello') + `data: ${JSON.stringify({ error: { message, type } })}\n\n`
  vi.spyOn(globalThis, 'fetch').mockImplementation(
    async () => new Response(body, { headers: { 'Content-Type': 'text/event-stream' } }),
  )
}

const ask = { model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }
const uiAsk = { id: 'chat-leak', messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: 'hi' }] }] }

/** Every surface, as its client sees the answer: what each returns, read to the end. */
const surfaces: Record<string, (testEnv: Env) => Promise<string>> = {
  '/api/chat': (e) => post('/api/chat', ask, e),
  '/v1 streaming': (e) => post('/v1/chat/completions', { ...ask, stream: true }, e),
  '/v1 whole': (e) => post('/v1/chat/completions', ask, e),
  '/v1/messages streaming': (e) => post('/v1/messages', { ...ask, max_tokens: 16, stream: true }, e),
  '/v1/messages whole': (e) => post('/v1/messages', { ...ask, max_tokens: 16 }, e),
  '/api/ui/chat': (e) => post('/api/ui/chat', uiAsk, e),
  '/api/ui/chat direct': (e) => post('/api/ui/chat', { ...uiAsk, resumable: false }, e),
  '/api/streams (stored, replayed)': async (e) => {
    const response = await call(
      '/api/streams',
      { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(ask) },
      e,
    )
    const text = await response.text()
    if (response.status !== 201) return text
    const { id } = JSON.parse(text) as { id: string }
    let replay = ''
    await until(async () => (replay = await (await read(id, undefined, e)).text()).includes('event: error'))
    return replay
  },
}

async function post(path: string, body: unknown, testEnv: Env): Promise<string> {
  const init = { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }
  return (await call(path, init, testEnv)).text()
}

/** Every log line written while `work` runs. */
async function logged(work: () => Promise<unknown>): Promise<string> {
  const lines: string[] = []
  for (const method of ['log', 'warn', 'error'] as const) {
    vi.spyOn(console, method).mockImplementation((line: unknown) => void lines.push(String(line)))
  }
  await work()
  return lines.join('\n')
}

afterEach(() => vi.restoreAllMocks())

describe('upstream error text', () => {
  for (const [name, read] of Object.entries(surfaces)) {
    it(`${name}: a 400 naming a key and a proxy, a 429 naming the organisation, a 503 naming a host: none of it reaches the client`, async () => {
      for (const [status, message] of [
        [400, KEY_400],
        [429, ORG_429],
        [503, HOST_503],
      ] as const) {
        refusing(status, message)
        const text = await read(env())
        for (const leak of LEAKS) expect(text, `${status}: ${text}`).not.toContain(leak)
        // Our code, or the error type the surface's own shape gives it (OpenAI's, Anthropic's).
        expect(text).toMatch(
          /upstream_rejected_request|upstream_rate_limited|upstream_unavailable|rate_limit_exceeded|invalid_request_error|rate_limit_error|overloaded_error|api_error/,
        )
        vi.restoreAllMocks()
      }
    })

    it(`${name}: a mid-stream error event's text does not reach the client (nor the stored log)`, async () => {
      failingMidStream(HOST_503 + ' ' + ORG_429)
      const text = await read(env())
      for (const leak of LEAKS) expect(text, text).not.toContain(leak)
      expect(text).toMatch(/upstream_error|"type":"error"|api_error/)
    })
  }

  it('a 400 about the request keeps its reason, scrubbed, so the caller can fix it', async () => {
    refusing(400, BAD_PARAM_400)
    const body = JSON.parse(await post('/api/chat', ask, env())) as { error: { message: string } }
    expect(body.error.message).toContain("Invalid value for 'temperature' at messages.0.content")
    for (const leak of LEAKS) expect(body.error.message).not.toContain(leak)
  })

  it('the log has the upstream’s own words, without the key', async () => {
    refusing(400, KEY_400)
    const lines = await logged(() => post('/api/chat', ask, env()))
    expect(lines).toContain('via proxy http://10.0.0.5:8000/v1') // for the operator
    expect(lines).not.toContain('sk-abc')
    failingMidStream(`key sk-live-${'a1'.repeat(20)} at ${HOST_503}`)
    const midStream = await logged(() => post('/api/chat', ask, env()))
    expect(midStream).toContain('internal-vllm.svc.cluster.local')
    expect(midStream).not.toContain('sk-live')
  })
})
