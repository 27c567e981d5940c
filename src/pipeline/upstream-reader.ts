import { cameFromNetwork } from '../providers/http'
import type { UpstreamStream } from '../providers/types'

/**
 * Reads an upstream's answer from its first byte, one chunk or one batch of chunks at a time.
 * A chunk is the reader's until the next read: a batch's buffer is reused.
 */
export interface UpstreamReader {
  read(): Promise<ReadableStreamReadResult<Uint8Array>>
  cancel(): Promise<void>
}

/**
 * A reader of the whole answer: the bytes already read (`UpstreamStream.head`, taken by
 * `awaitFirstEvent`), then the body's own, straight from its reader with no JavaScript stream
 * wrapped around it to pay for it once more; in batches while the upstream bursts
 * (`BurstReader`), where the body came over the network.
 */
export function upstreamReader({ body, head }: UpstreamStream): UpstreamReader {
  const rest: UpstreamReader = cameFromNetwork(body) ? new BurstReader(body) : body.getReader()
  let first = head
  return {
    read() {
      if (!first) return rest.read()
      const value = first
      first = undefined
      return Promise.resolve({ done: false, value })
    },
    cancel: () => rest.cancel(),
  }
}

/** Reads answered in the millisecond they were made, in a row, that make a burst. */
const BURST_READS = 4
/** How long a read in a burst waits for more of it, so that one read takes many chunks. */
const GATHER_MS = 1
/** The most one read in a burst takes. */
const BATCH_BYTES = 64 * 1024

/**
 * Reads a body chunk by chunk while it trickles, and in batches while it bursts (issue 30).
 *
 * Every read costs a trip into JavaScript, and the runtime hands JavaScript one upstream chunk per
 * read, however many have arrived: a provider that sends faster than the gateway encodes (a fast
 * model, or tokens it had held back) costs that trip for every token. So once `BURST_READS` reads
 * in a row were answered at once (the chunk was already waiting), the body is `tee()`d: one branch
 * drains into a native sink (a digest nobody reads), which keeps the runtime reading the upstream
 * without JavaScript, and the other, where the arriving chunks queue, is read with `readAtLeast`,
 * which takes all that have arrived, after waiting `GATHER_MS` for them. A burst's tokens then
 * wait at most that long, and cost one trip per batch. A read that had to wait (the upstream went
 * back to its own pace) ends the waits: a token that trickles in is read at once, as before.
 *
 * What it gives up, from the burst on: backpressure. The drain reads the upstream at the
 * network's pace, so a client reading slower than the upstream sends has the rest of the answer
 * queued for it in the isolate rather than in the upstream's socket (an answer is bounded by its
 * `max_tokens`); the relay (`relay-answer.ts`) queues the same way. A stream that never bursts,
 * such as one that idles, is never teed and holds nothing more.
 */
class BurstReader implements UpstreamReader {
  readonly #body: ReadableStream<Uint8Array>
  #chunks: ReadableStreamDefaultReader<Uint8Array> | undefined
  #batches: ReadableStreamBYOBReader | undefined
  // Made at the burst: a stream that never bursts (an idle one) holds neither.
  #drain: AbortController | undefined
  #buffer: ArrayBuffer | undefined
  /** Reads answered at once, in a row: the upstream is outrunning its reader. */
  #atOnce = 0

  constructor(body: ReadableStream<Uint8Array>) {
    this.#body = body
    this.#chunks = body.getReader()
  }

  async read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    const bursting = this.#atOnce >= BURST_READS
    if (bursting) {
      this.#batches ??= this.#tee()
      await new Promise((resolve) => setTimeout(resolve, GATHER_MS))
    }
    // The runtime's clock stands still while JavaScript runs and moves with I/O: a read answered
    // within the millisecond it was made found its bytes waiting.
    const asked = Date.now()
    const result = this.#batches ? await this.#readBatch() : await this.#chunks!.read()
    this.#atOnce = !result.done && Date.now() === asked ? this.#atOnce + 1 : 0
    return result
  }

  async cancel(): Promise<void> {
    this.#drain?.abort()
    await (this.#batches ?? this.#chunks)!.cancel()
  }

  #tee(): ReadableStreamBYOBReader {
    this.#chunks!.releaseLock()
    this.#chunks = undefined
    const [drain, queue] = this.#body.tee()
    this.#drain = new AbortController()
    this.#buffer = new ArrayBuffer(BATCH_BYTES)
    // A native sink that keeps nothing ("a WritableStream that does not retain the data written
    // into it", developers.cloudflare.com/workers/runtime-apis/web-crypto/), so the pipe runs
    // without JavaScript. Aborting it (on cancel) cancels its branch.
    drain.pipeTo(new crypto.DigestStream('MD5'), { signal: this.#drain.signal }).catch(() => {})
    return queue.getReader({ mode: 'byob' })
  }

  async #readBatch(): Promise<ReadableStreamReadResult<Uint8Array>> {
    const result = await this.#batches!.readAtLeast(1, new Uint8Array(this.#buffer!))
    // The buffer came back as the chunk's; it is the reader's again once the chunk has been read.
    if (result.value) this.#buffer = result.value.buffer as ArrayBuffer
    return result as ReadableStreamReadResult<Uint8Array>
  }
}
