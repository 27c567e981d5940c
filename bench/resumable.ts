/** The figures of an answer that outlives its request: replaying it, and what it writes to storage. */
import { ask, replay } from './client.ts'
import type { Contender } from './contenders.ts'
import type { Served } from './served.ts'
import type { Size } from './size.ts'
import { percentile } from './stats.ts'
import { expectedText } from './upstream.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * A resumable stream's own figures: reading a finished `size.tokens` answer back from its start
 * (what a reconnecting or reloaded client does), and the storage rows each answer wrote, from the
 * object's own `stream stored` log line (SQLite's count, which is what Cloudflare bills).
 */
export async function measureResumable(
  contender: Contender,
  served: Served,
  streamUrl: string | undefined,
  size: Size,
) {
  if (!streamUrl) throw new Error('the resumable answer had no Location')
  const first: number[] = []
  const whole: number[] = []
  for (let i = 0; i < size.replays; i++) {
    const read = await replay(streamUrl)
    if (contender.read(read.body).text !== expectedText(size.tokens)) throw new Error('the replay was wrong')
    first.push(read.firstEventMs)
    whole.push(read.wholeMs)
  }
  const stored = () =>
    served
      .logs()
      .split('\n')
      .filter((line) => line.includes('"msg":"stream stored"'))
      .map((line) => JSON.parse(line.slice(line.indexOf('{'))) as { events: number; rowsWritten: number })
  const burst = stored().findLast((s) => s.events > size.tokens) // this round's, just streamed
  // Paced as a model writes: a token every 20 ms (50 a second), where a burst's batching cannot help.
  const before = stored().length
  const at50 = await ask(served.url, `paced:${size.at50}:20:${contender.name}-at50-${Date.now()}`, contender.request)
  if (contender.read(at50.body).text !== expectedText(size.at50)) throw new Error('the answer at 50 tokens/s was wrong')
  await sleep(100) // its log line comes with the terminal event, just before the reader gets it
  const paced = stored().slice(before)
  return {
    replayFirstEventP99: percentile(first, 0.99),
    replayWholeP99: percentile(whole, 0.99),
    rowsWrittenPer1k: burst && (burst.rowsWritten * 1000) / size.tokens,
    rowsWrittenPer1kAt50: paced.length === 1 ? (paced[0]!.rowsWritten * 1000) / size.at50 : undefined,
  }
}

/**
 * A stored `size.tokens` response replayed with `starting_after` near its end (its last text
 * delta but one): the worst case for the first event, since the stream is rebuilt from the
 * response's first event and everything before `starting_after` is encoded and skipped.
 */
export async function measureResponsesReplay(apiKey: string, served: Served, size: Size) {
  const headers = { Authorization: `Bearer ${apiKey}` }
  const created = await ask(served.url, `burst:${size.tokens}`, {
    path: '/v1/responses',
    headers,
    body: (content) => ({ model: 'bench', input: content }),
  })
  const { id } = JSON.parse(created.body) as { id: string }
  const url = `${served.url}/v1/responses/${id}?stream=true`
  const events = (await replay(url, headers)).body.split('\n\n').filter((block) => block.startsWith('event: '))
  const lastDelta = events.findLastIndex((block) => block.startsWith('event: response.output_text.delta\n'))
  if (lastDelta < 1) throw new Error('the stored response had no text')
  const first: number[] = []
  for (let i = 0; i < size.replays; i++) {
    const read = await replay(`${url}&starting_after=${lastDelta - 1}`, headers)
    if (!read.body.startsWith('event: response.output_text.delta\n') || !read.body.includes('response.completed')) {
      throw new Error('the replay from starting_after was wrong')
    }
    first.push(read.firstEventMs)
  }
  return { replayAfterFirstEventP99: percentile(first, 0.99) }
}
