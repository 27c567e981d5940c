import { createParser } from 'eventsource-parser'

export interface Contender {
  name: string
  /** wrangler config, relative to the project root; none means the gateway's own wrangler.toml. */
  config?: string
  vars(upstreamUrl: string): Record<string, string>
  /** The answer's text and whether the stream ended with its format's "complete" marker. */
  read(body: string): { text: string; complete: boolean }
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

/** The upstream's own OpenAI chunks, passed through untouched. */
function readOpenAIChunks(body: string) {
  const all = events(body)
  const chunks = all.filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data))
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')
  return { text, complete: all.at(-1)?.data === '[DONE]' }
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
    read(body) {
      const all = events(body)
      const parts = all.filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data))
      const text = parts.filter((p) => p.type === 'text-delta').map((p) => p.delta as string)
      return { text: text.join(''), complete: parts.some((p) => p.type === 'finish') && all.at(-1)?.data === '[DONE]' }
    },
  },
  {
    name: 'ours',
    vars: (upstreamUrl) => ({
      DEFAULT_MODEL: 'bench',
      MODELS: JSON.stringify({ bench: { adapter: 'openai', base_url: upstreamUrl, upstream_model: 'bench' } }),
      HEARTBEAT_MS: '1000',
    }),
    read: readOurEvents,
  },
]
