import { createParser } from 'eventsource-parser'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateApiKey, hashApiKey } from '../src/access/api-key.ts'
import { servePortkey } from './portkey.ts'
import type { Served } from './served.ts'

const ROOT = new URL('../', import.meta.url).pathname

export interface Contender {
  name: string
  /** wrangler config, relative to the project root or absolute; none means the gateway's own wrangler.toml. */
  config?: string
  vars?(upstreamUrl: string): Record<string, string>
  /** A peer gateway, not a Worker: how to start it (no config, vars or bundle). */
  serve?(upstreamUrl: string): Promise<Served>
  /** The answer's text and whether the stream ended with its format's "complete" marker. */
  read(body: string): { text: string; complete: boolean }
  /** Where and how to ask, when not `POST /api/chat` (`body`: the request for a message, when not ours). */
  request?: { path: string; headers: Record<string, string>; body?: (content: string) => object }
  /** A resumable stream: also measure replaying it, and what it writes to storage. */
  resumable?: boolean
  /**
   * OpenAI's Responses API: also store a response (with this API key; anonymous callers' are
   * not kept) and measure replaying it with `starting_after`.
   */
  responsesReplay?: { apiKey: string }
  /**
   * The response cache is on: also measure hits on the burst's answer. Its idle streams, all
   * asking the same, would join one answer, so it has no memory figure.
   */
  cacheHit?: boolean
  /** Also measure the time to first token after one 429 the gateway retries (issue 26). */
  retry?: boolean
}

function events(body: string) {
  const all: Array<{ event?: string; data: string }> = []
  const parser = createParser({ onEvent: (e) => all.push(e) })
  parser.feed(body)
  return all
}

/** The gateway's own events (and the naive contender's, which copies their shape). */
function readOurEvents(body: string) {
  const all = events(body)
  const text = all.filter((e) => e.event === 'delta').map((e) => JSON.parse(e.data).text as string)
  return { text: text.join(''), complete: all.at(-1)?.event === 'done' }
}

/** The AI SDK's UI message stream: text deltas, complete with `finish` and then `[DONE]`. */
function readUIMessageChunks(body: string) {
  const all = events(body)
  const parts = all.filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data))
  const text = parts.filter((p) => p.type === 'text-delta').map((p) => p.delta as string)
  return { text: text.join(''), complete: parts.some((p) => p.type === 'finish') && all.at(-1)?.data === '[DONE]' }
}

/** The upstream's own OpenAI chunks, passed through untouched. */
function readOpenAIChunks(body: string) {
  const all = events(body)
  const chunks = all.filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data))
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')
  return { text, complete: all.at(-1)?.data === '[DONE]' }
}

/** Anthropic's Messages stream: text deltas, complete with `message_stop` (never after an `error`). */
function readAnthropicEvents(body: string) {
  const all = events(body)
  const deltas = all.filter((e) => e.event === 'content_block_delta').map((e) => JSON.parse(e.data).delta)
  const text = deltas.filter((d) => d.type === 'text_delta').map((d) => d.text as string)
  return { text: text.join(''), complete: all.at(-1)?.event === 'message_stop' }
}

/** OpenAI's Responses stream: text from `response.output_text.delta`, complete with `response.completed`. */
function readResponsesEvents(body: string) {
  const all = events(body).map((e) => JSON.parse(e.data) as { type: string; delta?: string })
  const text = all.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta!)
  return { text: text.join(''), complete: all.at(-1)?.type === 'response.completed' }
}

/** The key `ours-responses` stores its replayed response with. */
const responsesKey = generateApiKey()
const responsesKeyHash = await hashApiKey(responsesKey)

/**
 * The gateway's own wrangler.toml without the chat page (`[assets]` and its `[build]` step).
 * Static assets put Cloudflare's asset router, a Worker of its own, in front of every request
 * (under wrangler dev, in the same process); the other contenders have none, and in production
 * that router does not run in the gateway's isolate. So `ours` leaves it out, like for like, and
 * `ours+page` measures the template exactly as it deploys.
 */
export function apiOnlyConfig(): string {
  const toml = raiseRateLimits(readFileSync(join(ROOT, 'wrangler.toml'), 'utf8'))
    .replace(/^\[(assets|build)\]\n[\s\S]*?(?=^\[)/gm, '')
    .replace(/^main = ".*"$/m, `main = "${join(ROOT, 'src/index.ts')}"`)
  const path = join(mkdtempSync(join(tmpdir(), 'bench-ours-')), 'wrangler.toml')
  writeFileSync(path, toml)
  return path
}

/** The gateway's wrangler.toml as it deploys (page included), moved out of the project: paths made absolute. */
function asDeployedConfig(): string {
  const toml = raiseRateLimits(readFileSync(join(ROOT, 'wrangler.toml'), 'utf8'))
    .replace(/^main = ".*"$/m, `main = "${join(ROOT, 'src/index.ts')}"`)
    .replace(/^directory = "\.\/public"$/m, `directory = "${join(ROOT, 'public')}"`)
    .replace(/^watch_dir = "src"$/m, `watch_dir = "${join(ROOT, 'src')}"\ncwd = "${ROOT}"`)
  const path = join(mkdtempSync(join(tmpdir(), 'bench-ours-page-')), 'wrangler.toml')
  writeFileSync(path, toml)
  return path
}

/**
 * The benchmark opens 1,000 streams from one IP, far past any sensible per-IP rate limit. The
 * Rate Limiting binding is still called on every request (its cost is measured); only its
 * limits are raised.
 */
function raiseRateLimits(toml: string): string {
  return toml.replace(/(\[\[ratelimits\]\][^[]*?limit = )\d+/g, '$11000000000')
}

const oursVars = (upstreamUrl: string) => ({
  DEFAULT_MODEL: 'bench',
  MODELS: JSON.stringify({ bench: { adapter: 'openai', base_url: upstreamUrl, upstream_model: 'bench' } }),
  HEARTBEAT_MS: '1000',
  ANONYMOUS_MODELS: 'bench', // the benchmark calls without credentials
})

/** What `DefaultChatTransport` POSTs for a new chat's first message, with the app's `body` fields. */
function uiChatRequest(fields: object): NonNullable<Contender['request']> {
  return {
    path: '/api/ui/chat',
    headers: {},
    body: (content) => ({
      ...fields,
      id: crypto.randomUUID(),
      messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: content }] }],
      trigger: 'submit-message',
    }),
  }
}

export const contenders: Contender[] = [
  {
    name: 'floor',
    config: 'bench/contenders/floor/wrangler.toml',
    vars: (upstreamUrl) => ({ UPSTREAM_URL: upstreamUrl }),
    read: readOpenAIChunks,
  },
  {
    name: 'js-pump',
    config: 'bench/contenders/js-pump/wrangler.toml',
    vars: (upstreamUrl) => ({ UPSTREAM_URL: upstreamUrl }),
    read: readOpenAIChunks,
  },
  {
    name: 'naive',
    config: 'bench/contenders/naive/wrangler.toml',
    vars: (upstreamUrl) => ({ UPSTREAM_URL: upstreamUrl }),
    read: readOurEvents,
  },
  {
    name: 'ai-sdk',
    config: 'bench/contenders/ai-sdk/wrangler.toml',
    vars: (upstreamUrl) => ({ UPSTREAM_URL: upstreamUrl }),
    read: readUIMessageChunks,
  },
  { name: 'ours', config: apiOnlyConfig(), vars: oursVars, read: readOurEvents, retry: true },
  {
    // The same answer as a resumable stream: a Durable Object owns it and stores every event.
    name: 'ours-resumable',
    config: apiOnlyConfig(),
    vars: oursVars,
    read: readOurEvents,
    request: { path: '/api/streams', headers: { Accept: 'text/event-stream' } },
    resumable: true,
  },
  {
    // useChat's surface: the same resumable answer, as the AI SDK's UI message stream, one chat per request.
    name: 'ours-ui',
    config: apiOnlyConfig(),
    vars: oursVars,
    read: readUIMessageChunks,
    request: uiChatRequest({}),
  },
  {
    // The same, with resumable: false: straight from the pipeline, nothing kept (no resume).
    name: 'ours-ui-direct',
    config: apiOnlyConfig(),
    vars: oursVars,
    read: readUIMessageChunks,
    request: uiChatRequest({ resumable: false }),
  },
  {
    // Anthropic's Messages API (`/v1/messages`, what the Anthropic SDKs and Claude Code call), over the same upstream.
    name: 'ours-messages',
    config: apiOnlyConfig(),
    vars: oursVars,
    read: readAnthropicEvents,
    request: {
      path: '/v1/messages',
      headers: { 'anthropic-version': '2023-06-01' },
      body: (content) => ({ model: 'bench', max_tokens: 4096, stream: true, messages: [{ role: 'user', content }] }),
    },
  },
  {
    // The same surface to an `anthropic` model: the caller's body passed through to an
    // Anthropic-shaped upstream (issue 25), its Messages stream relayed (issue 30).
    name: 'ours-messages-pass',
    config: apiOnlyConfig(),
    vars: (upstreamUrl) => ({
      ...oursVars(upstreamUrl),
      MODELS: JSON.stringify({
        bench: {
          adapter: 'anthropic',
          base_url: upstreamUrl,
          upstream_model: 'claude-bench',
          api_key_secret: 'BENCH_KEY',
        },
      }),
      BENCH_KEY: 'sk-ant-bench',
    }),
    read: readAnthropicEvents,
    request: {
      path: '/v1/messages',
      headers: { 'anthropic-version': '2023-06-01' },
      body: (content) => ({ model: 'bench', max_tokens: 4096, stream: true, messages: [{ role: 'user', content }] }),
    },
  },
  {
    // OpenAI's Responses API, streamed: anonymous, so not stored, straight from the pipeline like `ours`.
    name: 'ours-responses',
    config: apiOnlyConfig(),
    vars: (upstreamUrl) => ({
      ...oursVars(upstreamUrl),
      API_KEYS: JSON.stringify({ bench: { sha256: responsesKeyHash, models: ['*'] } }),
    }),
    read: readResponsesEvents,
    request: {
      path: '/v1/responses',
      headers: {},
      body: (content) => ({ model: 'bench', input: content, stream: true }),
    },
    responsesReplay: { apiKey: responsesKey },
  },
  {
    // The same Responses request, passed through to an upstream that speaks the Responses API
    // (`api = "responses"`): the caller's body sent as it is, the upstream's stream relayed.
    name: 'ours-responses-pass',
    config: apiOnlyConfig(),
    vars: (upstreamUrl) => ({
      ...oursVars(upstreamUrl),
      MODELS: JSON.stringify({
        bench: { adapter: 'openai', api: 'responses', base_url: upstreamUrl, upstream_model: 'bench' },
      }),
    }),
    read: readResponsesEvents,
    request: {
      path: '/v1/responses',
      headers: {},
      body: (content) => ({ model: 'bench', input: content, stream: true, store: false }),
    },
  },
  {
    // Chat Completions passed through to the OpenAI-style upstream, asked as Portkey is (with the
    // usage chunk asked for, which the relay needs): the upstream's own chunks relayed, side by side
    // with `portkey`.
    name: 'ours-chat-pass',
    config: apiOnlyConfig(),
    vars: oursVars,
    read: readOpenAIChunks,
    request: {
      path: '/v1/chat/completions',
      headers: {},
      body: (content) => ({
        model: 'bench',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content }],
      }),
    },
  },
  {
    // `ours` with the response cache on: after the first, every burst is a hit, streamed from the
    // stored answer at once; paced answers (each asked once) run through the answer's object.
    name: 'ours-cache-hit',
    config: apiOnlyConfig(),
    vars: (upstreamUrl) => ({
      ...oursVars(upstreamUrl),
      MODELS: JSON.stringify({
        bench: { adapter: 'openai', base_url: upstreamUrl, upstream_model: 'bench', cache_ttl_s: 3600 },
      }),
    }),
    read: readOurEvents,
    cacheHit: true,
  },
  { name: 'ours+page', config: asDeployedConfig(), vars: oursVars, read: readOurEvents },
  {
    // Portkey's gateway on Node (./portkey.ts), asked as OpenAI's SDK asks it: the upstream's own chunks come back.
    name: 'portkey',
    serve: servePortkey,
    read: readOpenAIChunks,
    request: {
      path: '/v1/chat/completions',
      headers: {},
      body: (content) => ({ model: 'bench', stream: true, messages: [{ role: 'user', content }] }),
    },
  },
]
