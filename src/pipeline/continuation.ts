import type { UsageEventData } from '../events/chat-events'
import { log } from '../log'
import type { UpstreamEvent, UpstreamStream } from '../providers/types'
import { upstreamReader } from './upstream-reader'

/** Most continuations of one answer: an upstream that dies three times in one answer is down. */
export const MAX_CONTINUATIONS = 2

export interface ContinuationOptions {
  /** Longest silence from the upstream before it counts as dead (`upstream_idle_timeout`). */
  idleTimeoutMs: number
  /**
   * Opens the answer again, asking the model to go on from `partial` (the answer so far, as a
   * trailing assistant message): the same model, then its fallbacks, through the same retry
   * rules. Resolves with a stream whose first real event has been read; rejects when none would.
   */
  reopen: (partial: string, signal: AbortSignal) => Promise<UpstreamStream>
  /** Called each time a continuation has begun, so the answer's record can say so. */
  onContinued?: () => void
}

/** A failure the answer may be continued after: the code and message its `error` event would carry. */
type Failure = { type: 'error'; code: string; message: string; retryable: boolean }

/** A step's result: the events of one upstream chunk, or a tick that only says "still waiting". */
type Step = UpstreamEvent[]

/**
 * An upstream answer that survives its upstream dying mid-stream (issue 26, continuation): when
 * the connection resets, the body ends without the end-of-answer marker, a chunk cannot be
 * decoded (each a retryable `error` event from the adapter's decoder) or the upstream falls
 * silent for `idleTimeoutMs`, the model is asked again with the answer so far as an assistant
 * message to continue (Anthropic's prefill; OpenAI-compatible servers that continue a final
 * assistant message), and its text is streamed on as if nothing had happened: the pipeline
 * (`chatEventStream`) sees one answer, writes one terminal event, and a stored answer's ids keep
 * counting in the same log.
 *
 * Only an answer that is plain text so far is continued: half a tool call cannot be resumed
 * faithfully, and thinking cannot be handed back as a prefill (a provider either refuses it or
 * thinks again from scratch), so either ends in `error` as without the setting. The partial is
 * sent without its trailing whitespace (Anthropic refuses a prefill ending in it), and the same
 * whitespace is taken off the front of the continuation, so no character is sent twice.
 *
 * It sits between the adapter's decoder and the pipeline: its body carries no bytes a decoder
 * would read, only one chunk per batch of already-decoded events (in order), which its decoder
 * hands back. While it waits (for a silent upstream, or for a continuation to open) it hands out
 * an empty batch every half idle timeout, so the pipeline's own idle timeout (the same length)
 * never fires first: this one decides whether silence is fatal.
 *
 * Usage: the dead attempt reports none, so its output is counted at about four characters a
 * token, and its prompt as the continuation's prompt less that partial; both are added to the
 * continuation's usage, so the answer is charged for both requests.
 */
export function continuing(first: UpstreamStream, options: ContinuationOptions): UpstreamStream {
  const batches: Step[] = []
  const cancelled = new AbortController()
  let current = first
  let reader = upstreamReader(first)
  let text = ''
  let plainText = true
  let continuations = 0
  /** Whitespace the partial was sent without, still to be taken off the continuation's front. */
  let trimmed = ''
  /** Tokens of the attempts that died, added to the next usage the upstream reports. */
  let deadCompletion = 0
  let pending: Promise<Step | 'end'> | undefined
  let lastRead = Date.now()

  /** Reads one chunk (or the end) from the current upstream, or fails after `idleTimeoutMs` of silence. */
  async function readOnce(): Promise<ReadableStreamReadResult<Uint8Array> | Failure> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const silent = new Promise<Failure>((resolve) => {
      timer = setTimeout(
        () => resolve(failure('upstream_idle_timeout', 'The model provider went silent for too long.')),
        Math.max(0, lastRead + options.idleTimeoutMs - Date.now()),
      )
    })
    try {
      return await Promise.race([
        reader
          .read()
          .catch(() => failure('upstream_connection_lost', 'The connection to the model provider broke off.')),
        silent,
      ])
    } finally {
      clearTimeout(timer)
    }
  }

  /** The next batch of events to pass on, continuing the answer when its upstream dies. */
  async function step(): Promise<Step | 'end'> {
    for (;;) {
      const result = await readOnce()
      lastRead = Date.now()
      if ('type' in result) {
        const resumed = await resume(result)
        if (resumed) continue
        return [result]
      }
      const events = result.done ? current.decoder.end() : current.decoder.decode(result.value)
      const out: UpstreamEvent[] = []
      for (const event of events) {
        if (event.type === 'error' && event.retryable && (await resume(event))) return out
        const passed = passOn(event)
        // A piece that was only the whitespace already sent is dropped, not sent empty.
        if (passed.type !== 'text' || passed.text) out.push(passed)
        if (event.type === 'done' || event.type === 'error') return out
      }
      if (result.done) return out.length ? out : 'end'
      return out
    }
  }

  /** Tracks what the answer holds so far, and joins a continuation's text and usage to it. */
  function passOn(event: UpstreamEvent): UpstreamEvent {
    if (event.type === 'text') {
      let piece = event.text
      while (trimmed && piece) {
        if (piece[0] === trimmed[0]) {
          piece = piece.slice(1)
          trimmed = trimmed.slice(1)
        } else trimmed = ''
      }
      if (piece && !/^\s*$/.test(piece)) trimmed = ''
      text += piece
      return piece === event.text ? event : { type: 'text', text: piece }
    }
    if (event.type === 'reasoning' || event.type === 'tool_call') plainText = false
    if (event.type === 'usage' && continuations > 0) return { type: 'usage', usage: withDead(event.usage) }
    return event
  }

  function withDead(usage: UsageEventData): UsageEventData {
    // The continuation's prompt held the partial answer; the dead attempt's prompt did not.
    const deadPrompt = Math.max(0, usage.prompt_tokens - deadCompletion)
    const prompt = usage.prompt_tokens + deadPrompt
    const completion = usage.completion_tokens + deadCompletion
    return { ...usage, prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion }
  }

  /**
   * Opens a continuation after `failed`, if the answer can be continued faithfully; then the
   * reads go on from it. Returns whether it did.
   */
  async function resume(failed: Failure): Promise<boolean> {
    if (!plainText || !text || continuations >= MAX_CONTINUATIONS || cancelled.signal.aborted) return false
    reader.cancel().catch(() => {})
    const partial = text.trimEnd()
    continuations++
    log.warn('upstream failed mid-answer, continuing', { code: failed.code, continuation: continuations })
    try {
      current = await options.reopen(partial, cancelled.signal)
    } catch (error) {
      log.warn('the answer could not be continued', { code: (error as { code?: string }).code ?? String(error) })
      return false
    }
    if (cancelled.signal.aborted) {
      // The reader left while the continuation was opening: nobody will read it.
      current.body.cancel().catch(() => {})
      return false
    }
    // Counted once per dead attempt: everything said before the continuation that took over.
    deadCompletion = Math.ceil(partial.length / CHARS_PER_TOKEN)
    trimmed = text.slice(partial.length)
    reader = upstreamReader(current)
    lastRead = Date.now()
    options.onContinued?.()
    return true
  }

  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        pending ??= step()
        let tick: ReturnType<typeof setTimeout> | undefined
        const waited = new Promise<'tick'>(
          (resolve) => (tick = setTimeout(() => resolve('tick'), options.idleTimeoutMs / 2)),
        )
        const next = await Promise.race([pending, waited]).finally(() => clearTimeout(tick))
        if (next === 'tick') {
          batches.push([])
        } else {
          pending = undefined
          if (next === 'end') return controller.close()
          batches.push(next)
        }
        controller.enqueue(new Uint8Array(0))
      },
      cancel() {
        cancelled.abort()
        reader.cancel().catch(() => {})
      },
    },
    { highWaterMark: 0 },
  )
  return { body, decoder: { decode: () => batches.shift() ?? [], end: () => [] } }
}

/** About four characters a token, as the ledger's estimate counts (`usage/cost.ts`). */
const CHARS_PER_TOKEN = 4

function failure(code: string, message: string): Failure {
  return { type: 'error', code, message, retryable: true }
}
