import { describe, expect, it } from 'vitest'
import app from '../../src/index'
import { eventsOf } from '../helpers/sse'
import { asEnv, type TestEnv } from '../helpers/env'

/** The test's models, all open to anonymous callers (access control has its own tests). */
function env(overrides: TestEnv = {}): Env {
  const environment: TestEnv = {
    DEFAULT_MODEL: 'demo',
    MODELS: { demo: { adapter: 'demo', token_delay_ms: 0 } },
    MAX_BODY_BYTES: '4096',
    MAX_MESSAGE_CHARS: '200',
    MAX_IMAGES: '2',
    MAX_IMAGE_BYTES: '300',
    ...overrides,
  }
  environment.ANONYMOUS_MODELS ??= Object.keys(environment.MODELS as object).join(', ')
  return asEnv(environment)
}

const post = (body: unknown, environment = env()) =>
  app.request(
    '/api/chat',
    { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
    environment,
  )

async function issuesOf(response: Response) {
  expect(response.status).toBe(400)
  return ((await response.json()) as { error: { code: string; issues: Array<{ path: string; message: string }> } })
    .error
}

const image = (url = 'data:image/png;base64,iVBORw0KGgo=') => ({ type: 'image_url', image_url: { url } })
const text = (t: string) => ({ type: 'text', text: t })

describe('/api/chat content parts', () => {
  it('reads an array of text parts as the text they hold', async () => {
    const events = eventsOf(
      await (await post({ messages: [{ role: 'user', content: [text('Hello, '), text('parts')] }] })).text(),
    )
    const answer = events
      .filter((e) => e.event === 'delta')
      .map((e) => (e.data as { text: string }).text)
      .join('')
    expect(answer).toContain('You said: “Hello, parts”.')
  })

  it('lets the demo model count the images it was sent', async () => {
    const body = { messages: [{ role: 'user', content: [text('Look'), image(), image()] }] }
    const answer = eventsOf(await (await post(body)).text())
      .filter((e) => e.event === 'delta')
      .map((e) => (e.data as { text: string }).text)
      .join('')
    expect(answer).toContain('You attached 2 images')
  })

  it('400 naming each bad part: an unknown type, an http URL, a data URL that is not an image, one too large', async () => {
    const big = `data:image/png;base64,${'A'.repeat(404)}` // 303 bytes decoded
    const error = await issuesOf(
      await post({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'input_audio', input_audio: { data: '', format: 'wav' } },
              image('http://example.com/a.png'),
              image('data:text/html;base64,PGI+'),
              image(big),
            ],
          },
        ],
      }),
    )
    expect(error.code).toBe('invalid_request')
    expect(error.issues.map((i) => i.path)).toEqual([
      'messages.0.content.0.type',
      'messages.0.content.1.image_url.url',
      'messages.0.content.2.image_url.url',
      'messages.0.content.3.image_url.url',
    ])
    expect(error.issues[3]!.message).toBe('is an image larger than 300 bytes')
  })

  it('400 for an image in a system message, more images than MAX_IMAGES, and text parts over the limit together', async () => {
    const error = await issuesOf(
      await post({
        messages: [
          { role: 'system', content: [image()] },
          { role: 'user', content: [text('x'.repeat(150)), text('y'.repeat(51))] },
        ],
      }),
    )
    expect(error.issues.map((i) => i.path)).toEqual(['messages.0.content.0.type', 'messages.1.content'])
    const many = await issuesOf(await post({ messages: [{ role: 'user', content: [image(), image(), image()] }] }))
    expect(many.issues).toEqual([{ path: 'messages.0.content.2', message: 'is one image more than the 2 allowed' }])
  })

  it('400 naming the part when the model is configured without vision', async () => {
    const blind = env({ MODELS: { demo: { adapter: 'demo', token_delay_ms: 0, vision: false } } })
    const error = await issuesOf(await post({ messages: [{ role: 'user', content: [text('hi'), image()] }] }, blind))
    expect(error).toMatchObject({
      code: 'unsupported_parameter',
      issues: [{ path: 'messages.0.content.1', message: 'model "demo" does not accept images.' }],
    })
  })

  it('passes over a fallback without vision when the model asked for cannot be reached', async () => {
    const models = {
      primary: {
        adapter: 'openai',
        base_url: 'http://127.0.0.1:1/v1',
        upstream_model: 'm',
        fallbacks: ['blind', 'seeing'],
      },
      blind: { adapter: 'demo', token_delay_ms: 0, vision: false },
      seeing: { adapter: 'demo', token_delay_ms: 0 },
    }
    const response = await post(
      { model: 'primary', messages: [{ role: 'user', content: [image()] }] },
      env({ DEFAULT_MODEL: 'primary', MODELS: models }),
    )
    expect(eventsOf(await response.text())[0]).toMatchObject({ data: { upstream: 'seeing' } })
  })
})

describe('/api/chat tools and structured output fields', () => {
  const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }]

  it('400 for tool_choice without tools, a named function not in tools, and a bad function name', async () => {
    const hi = [{ role: 'user', content: 'hi' }]
    expect((await issuesOf(await post({ messages: hi, tool_choice: 'required' }))).issues).toEqual([
      { path: 'tool_choice', message: 'needs tools' },
    ])
    const named = { type: 'function', function: { name: 'other' } }
    expect((await issuesOf(await post({ messages: hi, tools, tool_choice: named }))).issues).toEqual([
      { path: 'tool_choice.function.name', message: 'names no function in tools' },
    ])
    const badName = [{ type: 'function', function: { name: 'get weather!' } }]
    expect((await issuesOf(await post({ messages: hi, tools: badName }))).issues[0]!.path).toBe('tools.0.function.name')
  })

  it('400 for an assistant message with neither content nor tool_calls, and a tool message without its id', async () => {
    const error = await issuesOf(
      await post({
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: null },
          { role: 'tool', content: 'result' },
        ],
      }),
    )
    expect(error.issues.map((i) => i.path)).toEqual(['messages.1', 'messages.2.tool_call_id'])
  })

  it('the demo model takes tools and answers in text; a required tool call or a JSON format is a 400', async () => {
    const hi = [{ role: 'user', content: 'hi' }]
    const offered = await post({ messages: hi, tools })
    expect(offered.status).toBe(200)
    expect(await offered.text()).toMatch(/event: delta\ndata: \{"text":/)
    expect((await issuesOf(await post({ messages: hi, tools, tool_choice: 'required' }))).issues).toEqual([
      { path: 'tool_choice', message: 'the demo model answers in text and never calls a tool.' },
    ])
    const json = { type: 'json_object' }
    expect((await issuesOf(await post({ messages: hi, response_format: json }))).issues).toEqual([
      { path: 'response_format', message: 'the demo model answers only in prose.' },
    ])
  })

  it('still rejects unknown fields, in messages and parts too', async () => {
    const error = await issuesOf(
      await post({
        messages: [{ role: 'user', content: [{ type: 'text', text: 'a', cache: true }], name: 'me' }],
        n: 2,
      }),
    )
    expect(error.issues.map((i) => i.path).sort()).toEqual(['messages.0.content.0.cache', 'messages.0.name', 'n'])
  })
})
