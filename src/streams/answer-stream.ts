import { DurableObject } from 'cloudflare:workers'
import type { Lease } from '../access/leases'
import { loadConfig, type GatewayConfig } from '../config/load'
import { GatewayError, type GatewayErrorOptions } from '../errors'
import type { AnswerSummary, CacheStatus } from '../events/answer-summary'
import type { ErrorEventData, StartEventData } from '../events/chat-events'
import { isTerminal, type EventRecord, type StoredEvent } from '../events/stored-event'
import { replayEncoder, type FormatChoice } from '../formats'
import { log } from '../log'
import { chatEventStream } from '../pipeline/chat-event-stream'
import { openAnswer } from '../pipeline/open-answer'
import { endAnswer } from '../usage/end-answer'
import { Attachment } from './attachment'
import { cacheEntry } from './cache-entry'
import { EventLog, type StreamMeta } from './event-log'
import { eventRecordFormat, parseRecords } from './record-format'
import { StreamReader } from './stream-reader'
import type { UpstreamRequest } from '../request/native-request'

/** What the Worker tells the object when it creates a stream: all it needs, so both agree. */
export interface StreamSettings {
  /**
   * The id the `start` event carries: the stream's own id where the client knows it, or another
   * (`useChat`'s assistant message id) where the stream id is never shown to the client.
   */
  id: string
  /** The route that created the stream, for the answer's log line. */
  path: string
  /** The stream's own id (the object's name), for the usage ledger. */
  streamId?: string
  config: GatewayConfig
  retentionMs: number
  abandonMs: number | null
  maxBytes: number
  /** At most one storage write per this many ms while the answer runs (`STREAM_FLUSH_MS`). */
  flushMs?: number
  /** The caller's admission: its usage is settled against it when the answer ends. */
  lease: Lease
  /** The model's fallbacks the caller may use, in order (admission decides). */
  fallbacks: string[]
  /** What the surface keeps beside the answer (opaque JSON; see `Attachment`). */
  attachment?: string
  /**
   * Who owns the answer (a principal's id, a chat owner's): every read, stop or delete must name
   * the same owner, or finds nothing, exactly as for an answer that never existed. Unset for an
   * answer begun without credentials, whose id alone is the capability (`EventSource` cannot
   * send any).
   */
  owner?: string
  /** Request fields the surface dropped, for the answer's log line. */
  ignoredFields?: string[]
  /** What the response cache did: a cached answer's own record says `MISS`. */
  cache?: CacheStatus
}

/** A refusal before the answer started, as plain data (RPC carries no error subclasses). */
export interface Refusal {
  status: number
  code: string
  message: string
  options: GatewayErrorOptions
}

/** `attempts`: the upstream requests it took to start the answer (`OpenedAnswer.attempts`), for its response's header. */
export type BeginResult = { ok: true; createdAt: number; attempts: number } | { ok: false; refusal: Refusal }

/**
 * What a cached read found (see `AnswerStream.cached`): the answer to read and how it was found;
 * a refusal before it began; or `busy`: the object is taken by an answer this request may not
 * read (`no-cache` while one runs) nor replace (someone still reads the one to be forgotten).
 */
export type CachedResult =
  | { ok: true; cache: Exclude<CacheStatus, 'BYPASS'>; read: ReadResult }
  | { ok: false; refusal: Refusal }
  | { ok: 'busy' }

export interface ReadOptions {
  heartbeatMs: number
  retryMs: number
  /** The wire format the reader gets the stored events in, by its name in the registry. */
  format: FormatChoice
  /**
   * Answer 204 once any reader has been given the terminal event, not only when this reader
   * says it has. For a client that cannot say what it has (`useChat`'s resume sends no
   * position): an ended answer that nobody has seen whole is still worth reading, so a
   * connection cut just before the end still gets the rest.
   */
  unlessReadToEnd?: boolean
  /** The reader's owner (see `StreamSettings.owner`). */
  owner?: string
}

/** What a read found: a stream to send, or why there is none. */
export type ReadResult =
  | { status: 200; body: ReadableStream<Uint8Array> }
  | { status: 204 } // the reader already has the terminal event (`unlessReadToEnd`: some reader has)
  | { status: 404 }
  | { status: 400; lastId: number } // the reader claims events that do not exist yet

/** `STREAM_FLUSH_MS`'s default, for a caller that passes none. */
const DEFAULT_FLUSH_MS = 750
/**
 * An event made within this many ms of the last send goes out at the end of the turn, with any
 * others that turn makes, rather than at once. Every chunk a reader is sent costs a trip through
 * the runtime (into the Worker and out to the client), and a burst from the upstream would pay it
 * per token; a paced answer (a token every 5-50 ms) sends each event at once. Waiting out the
 * whole window instead cost a burst no less CPU and `ours-resumable` 1 ms of p99 latency: a
 * token that came right behind a late one waited for it (issue 30, BENCHMARKS.md).
 */
const SEND_WINDOW_MS = 2

/**
 * One answer, owned by its own Durable Object rather than by a connection: the object makes the
 * upstream request and runs the pipeline, stores every event in SQLite as it is produced, and
 * serves any number of readers, each from any event id, live or long after the answer ended.
 *
 * Storage is written in batches (`event-log.ts`): one row per flush window (`STREAM_FLUSH_MS`),
 * per 32 KiB, and at the terminal event. Readers do not wait for it: each event goes to the live
 * readers as it is made, and the log's reserved id mark keeps a restart honest.
 *
 * Lifetime, and what it relies on:
 * - The object must own the upstream request from the start: a plain Worker's `waitUntil` stops
 *   30 s after its client leaves. The pump runs under `ctx.waitUntil`, and since compatibility
 *   date 2026-10-01 pending `waitUntil` promises and timers keep an object alive with no client
 *   connected (Cloudflare changelog, 2026-10-01, "Pending I/O operations allow Durable Objects to
 *   continue long-running work without a connected client").
 * - An object can still be restarted (a deploy, a host failure). A stream that was running when
 *   that happened is found in state `running` by the next constructor, which ends it with a
 *   retryable `interrupted` error under an id past every id a reader may have been given: a
 *   stream that was cut never looks finished, and no id ever names two different events.
 * - After the terminal event the stream is kept `retentionMs`, then an alarm deletes it
 *   (`deleteAll()`, which since 2026-02-24 also removes the alarm).
 */
export class AnswerStream extends DurableObject<Env> {
  #log: EventLog
  readonly #attachment: Attachment
  readonly #readers = new Set<StreamReader>()
  /** The running pipeline's output, while the answer is being generated in this instance. */
  #pipeline: ReadableStreamDefaultReader<Uint8Array> | undefined
  /** Event data stored so far, against the stream's size bound. */
  #bytes = 0
  /** When the last reader left (or the answer began with none), for `abandonMs`. */
  #unreadSince = Date.now()
  /** The newest event given to the live readers. */
  #released = 0
  #flushMs = DEFAULT_FLUSH_MS
  #flushTimer: ReturnType<typeof setTimeout> | undefined
  /** The flush window is up: the log is written just after the next send (`#flushAfterSend`). */
  #flushDue = false
  #sendTimer: ReturnType<typeof setTimeout> | undefined
  #lastSentAt = 0
  /** A cached answer being opened: identical requests wait for it, then join (`cached`). */
  #opening: Promise<BeginResult> | undefined

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.#log = new EventLog(ctx.storage, () => this.#release())
    this.#released = this.#log.visibleId
    this.#attachment = new Attachment(ctx.storage.sql)
    // No pipeline can be running in a new instance: a stream still marked running was cut off.
    const meta = this.#log.meta
    if (meta?.state === 'running') {
      void ctx.blockConcurrencyWhile(async () => {
        // Readers come in once it is durable, so none can be given events a restart could lose.
        await this.#end({ code: 'interrupted', message: 'The answer was interrupted; ask again.', retryable: true })
        // The pipeline that would have ended the answer died with the old instance: end it here
        // from what the log holds, so the caller's stream slot is free now rather than when its
        // lease expires, and the budget and the ledger both have what it streamed.
        const summary = {
          outcome: 'error',
          errorCode: 'interrupted',
          ...this.#log.streamedChars(),
          durationMs: Date.now() - meta.createdAt,
        } as const
        ctx.waitUntil(this.#endInterrupted(meta, summary))
      })
    }
  }

  /**
   * Opens the upstream (with the model's fallbacks) and, once it has accepted, starts the
   * answer. A refusal comes back as data, so the Worker can answer with its status.
   */
  async begin(request: UpstreamRequest & { model: string }, settings: StreamSettings): Promise<BeginResult> {
    if (this.#log.meta) return { ok: false, refusal: refusal(new GatewayError(409, 'stream_exists', 'Id in use.')) }
    const { config } = settings
    // Nothing aborts the opening: the answer belongs to this object, not to whoever asked for it.
    const scope = {
      config,
      env: this.env,
      signal: new AbortController().signal,
      waitUntil: (p: Promise<unknown>) => this.ctx.waitUntil(p),
    }
    let opened
    try {
      opened = await openAnswer(scope, request, settings.fallbacks)
    } catch (error) {
      if (error instanceof GatewayError) return { ok: false, refusal: refusal(error) }
      // A bug or a broken upstream library, not a refusal: the operator sees it, the caller a
      // plain 500, and the Worker gives the lease back as for any answer that never started.
      log.error('answer failed to start', { error: String(error) })
      return { ok: false, refusal: refusal(internalError()) }
    }
    const { model, upstream, keySecret, continued } = opened
    const createdAt = Date.now()
    this.#flushMs = settings.flushMs ?? DEFAULT_FLUSH_MS
    this.#log.create({
      state: 'running',
      model,
      upstream,
      createdAt,
      retentionMs: settings.retentionMs,
      abandonMs: settings.abandonMs,
      maxBytes: settings.maxBytes,
      lease: settings.lease,
      path: settings.path,
      streamId: settings.streamId,
      ...(settings.owner !== undefined && { owner: settings.owner }),
    })
    if (settings.attachment !== undefined) this.#attachment.put(settings.attachment)
    const events = chatEventStream(opened.stream, {
      start: { id: settings.id, model, upstream, created: Math.floor(createdAt / 1000) },
      encoder: eventRecordFormat(),
      heartbeatMs: config.heartbeatMs,
      idleTimeoutMs: config.upstreamIdleTimeoutMs,
      deadlineMs: config.streamDeadlineMs,
      // The answer outlives the request that admitted it, so the object ends it.
      onEnd: (summary) => {
        // Kept with the answer: what a cache hit on it saved.
        if (this.#log.meta) this.#log.update({ ...this.#log.meta, summary })
        const { streamId, path: route, ignoredFields, cache } = settings
        // Attempts are read at the end: a continuation mid-answer adds to them.
        const attempts = opened.attempts
        const end = { route, model, upstream, summary, streamId, attempts, keySecret, continued, ignoredFields, cache }
        this.ctx.waitUntil(endAnswer(this.env, config, settings.lease, end))
      },
    })
    this.#pipeline = events.getReader()
    this.ctx.waitUntil(this.#pump(this.#pipeline))
    this.#scheduleAbandon()
    return { ok: true, createdAt, attempts: opened.attempts }
  }

  /** A reader for every event after `afterId`, live until the terminal event, in the format it asks for. */
  read(afterId: number, options: ReadOptions): ReadResult {
    return this.#read(afterId, options)
  }

  /**
   * The response cache's way in (docs/cache.md): this object is named by the request's cache key,
   * so an identical request finds it. A running answer is joined (`JOINED`), from its first event,
   * live; a complete answer within its time to live is read again (`HIT`); anything else (no
   * answer, a failed or expired one, or `lookup` false: `Cache-Control: no-cache`) starts a new
   * answer here (`MISS`), which replaces what was kept. Requests that come while it is being
   * opened wait for it and join it: one upstream call, whoever asks.
   *
   * `settings.lease` is this request's: a miss's answer settles it as any answer does; a hit or
   * a join settles it for nothing once its reader is done, and records what it saved.
   */
  async cached(
    request: UpstreamRequest & { model: string },
    settings: StreamSettings,
    options: ReadOptions,
    lookup: boolean,
  ): Promise<CachedResult> {
    const opening = this.#opening
    if (opening) {
      if (!lookup) return { ok: 'busy' }
      const begun = await opening
      return begun.ok ? this.#served('JOINED', settings, options) : begun
    }
    const meta = this.#log.meta
    const entry = meta && cacheEntry(meta, Date.now())
    if (entry === 'running') return lookup ? this.#served('JOINED', settings, options) : { ok: 'busy' }
    if (entry === 'fresh' && lookup) return this.#served('HIT', settings, options)
    // Forgetting an answer someone is still reading would cut them off: they keep it, this request goes uncached.
    if (meta && this.#readers.size) return { ok: 'busy' }
    const begin = async () => {
      if (meta) await this.ctx.storage.deleteAll()
      // A log of its own for the new answer: whatever an alarm cleared or this forgot is gone for good.
      this.#log = new EventLog(this.ctx.storage, () => this.#release())
      this.#bytes = 0
      this.#released = 0
      return this.begin(request, { ...settings, cache: 'MISS' })
    }
    this.#opening = begin()
    let begun: BeginResult
    try {
      begun = await this.#opening
    } finally {
      this.#opening = undefined
    }
    if (!begun.ok) return begun
    return { ok: true, cache: 'MISS', read: this.#read(0, options) }
  }

  /** A hit or a join: this request's reader, and its usage record (nothing used) once it is done. */
  #served(cache: 'HIT' | 'JOINED', settings: StreamSettings, options: ReadOptions): CachedResult {
    const startedAt = Date.now()
    const read = this.#read(0, options, (reader) => {
      const meta = this.#log.meta
      if (!meta) return
      const whole = reader.readToEnd && meta.endedWith === 'done'
      const outcome = whole ? 'done' : reader.readToEnd ? 'error' : 'cancelled'
      const original = meta.summary
      const summary: AnswerSummary = {
        outcome,
        durationMs: Date.now() - startedAt,
        ...(whole && { finishReason: original?.finishReason }),
        ...(outcome === 'error' && { errorCode: original?.errorCode ?? 'internal_error' }),
      }
      // Only a whole answer saved anything: one its reader left went on (or not) regardless.
      const saved =
        whole && original
          ? { upstream: meta.upstream, summary: original, estimatedPromptTokens: meta.lease.promptTokens }
          : undefined
      const end = { route: settings.path, model: meta.model, upstream: meta.upstream, summary, cache, saved }
      this.ctx.waitUntil(endAnswer(this.env, settings.config, settings.lease, end))
    })
    if (read.status !== 200) {
      // Nothing to read after all (it cannot be: the entry was there): the caller's slot goes back.
      const summary: AnswerSummary = { outcome: 'error', errorCode: 'internal_error', durationMs: 0 }
      const end = { route: settings.path, model: settings.lease.model, upstream: settings.lease.model, summary, cache }
      this.ctx.waitUntil(endAnswer(this.env, settings.config, settings.lease, end))
    }
    return { ok: true, cache, read }
  }

  #read(
    afterId: number,
    { heartbeatMs, retryMs, format, unlessReadToEnd = false, owner }: ReadOptions,
    onDone?: (reader: StreamReader) => void,
  ): ReadResult {
    const meta = this.#ownedMeta(owner)
    if (!meta) return { status: 404 }
    const lastId = this.#log.lastId
    if (meta.state === 'ended' && (afterId >= lastId || (unlessReadToEnd && meta.endRead))) return { status: 204 }
    if (afterId > lastId) return { status: 400, lastId }
    // A reader that starts after the `start` event gets it too, for formats that open with it
    // (unless a restart lost it before it was stored: then there is nothing to open).
    const first = afterId > 0 ? this.#log.after(0, 1)[0] : undefined
    const resumedAfter = first?.event === 'start' ? (JSON.parse(first.data) as StartEventData) : undefined
    const reader = new StreamReader({
      log: this.#log,
      afterId,
      encoder: replayEncoder(format, { retryMs, resumedAfter }),
      heartbeatMs,
      onClose: (closed) => {
        this.#readers.delete(closed)
        if (closed.readToEnd) this.#endRead()
        this.#scheduleAbandon()
        onDone?.(closed)
      },
    })
    // It may have read an ended stream to its end, and closed, already.
    if (!reader.closed) this.#readers.add(reader)
    return { status: 200, body: reader.body }
  }

  /** Stops the answer: cancels the upstream, and every reader (now and later) gets `cancelled`. */
  cancel(owner?: string): 'cancelled' | 'ended' | 'missing' {
    const meta = this.#ownedMeta(owner)
    if (!meta) return 'missing'
    if (meta.state === 'ended') return 'ended'
    void this.#end({ code: 'cancelled', message: 'The answer was stopped.', retryable: false })
    return 'cancelled'
  }

  /** What the surface kept beside the answer; null when there is none (or no answer). */
  attachment(owner?: string): string | null {
    return this.#ownedMeta(owner) ? this.#attachment.get() : null
  }

  /**
   * Up to `limit` stored events after `afterId`, as plain data, and whether the answer is still
   * running: for a surface that shows an answer as it stands rather than as a stream.
   */
  events(afterId: number, limit: number, owner?: string): { state: 'running' | 'ended'; events: StoredEvent[] } | null {
    const meta = this.#ownedMeta(owner)
    if (!meta) return null
    return { state: meta.state, events: this.#log.after(afterId, Math.min(limit, 1000)) }
  }

  /** Deletes the answer now, stopping it first if it runs: its readers end, and it is gone for good. */
  async forget(owner?: string): Promise<boolean> {
    if (!this.#ownedMeta(owner)) return false
    this.cancel(owner)
    for (const reader of this.#readers) reader.end()
    this.#log.clear()
    await this.ctx.storage.deleteAll()
    return true
  }

  /**
   * The stream's meta when `owner` may touch it: an owned answer answers only its owner, and
   * anyone else finds nothing, so a stranger cannot tell it from an id that never existed.
   */
  #ownedMeta(owner: string | undefined): StreamMeta | undefined {
    const meta = this.#log.meta
    if (meta?.owner !== undefined && meta.owner !== owner) return undefined
    return meta
  }

  /** Readers connected now (for tests and the benchmark). */
  get readerCount(): number {
    return this.#readers.size
  }

  override async alarm(): Promise<void> {
    const meta = this.#log.meta
    if (!meta) return
    const now = Date.now()
    if (meta.state === 'ended') {
      if (now < meta.endedAt! + meta.retentionMs) return this.#setAlarm(meta.endedAt! + meta.retentionMs)
      for (const reader of this.#readers) reader.end()
      this.#log.clear()
      await this.ctx.storage.deleteAll()
      return
    }
    if (meta.abandonMs !== null && this.#readers.size === 0 && now >= this.#unreadSince + meta.abandonMs) {
      void this.#end({ code: 'abandoned', message: 'Nobody read the answer, so it was stopped.', retryable: true })
    } else {
      this.#scheduleAbandon()
    }
  }

  /** Ends an answer a restart cut, priced with the config this instance loads. */
  async #endInterrupted(meta: StreamMeta, summary: AnswerSummary): Promise<void> {
    let config: GatewayConfig | undefined
    try {
      config = loadConfig(this.env)
    } catch (error) {
      // A config this instance cannot load must not keep the stream from ending honestly, nor
      // the caller's lease from being settled: only the ledger misses this answer.
      log.error('usage record of an interrupted answer not made', { error: String(error) })
    }
    const end = { route: meta.path ?? '', model: meta.model, upstream: meta.upstream, summary, streamId: meta.streamId }
    await endAnswer(this.env, config, meta.lease, end)
  }

  /** Someone has been given the answer whole (`unlessReadToEnd`). */
  #endRead(): void {
    const meta = this.#log.meta
    // Also while still running: live readers get the terminal event just before the stream is marked ended.
    if (meta && !meta.endRead) this.#log.update({ ...meta, endRead: true })
  }

  /** Moves the pipeline's events into the log and out to the readers, until it ends. */
  async #pump(pipeline: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder()
    try {
      for (;;) {
        const { done, value } = await pipeline.read()
        if (done || this.#pipeline !== pipeline) return
        const records = parseRecords(decoder.decode(value, { stream: true }))
        if (records.length) this.#append(records)
      }
    } catch (error) {
      log.error('stream pump failed', { error: String(error) })
      void this.#end({
        code: 'internal_error',
        message: 'The gateway failed while streaming the answer.',
        retryable: true,
      })
    }
  }

  #append(records: EventRecord[]): void {
    const meta = this.#log.meta
    if (meta?.state !== 'running') return
    let size = 0
    for (const record of records) size += record.data.length
    if (this.#bytes + size > meta.maxBytes) {
      void this.#end({
        code: 'stream_too_large',
        message: 'The answer grew past the size the gateway keeps for a stream.',
        retryable: false,
      })
      return
    }
    this.#bytes += size
    this.#log.append(records)
    if (isTerminal(records.at(-1)!.event)) {
      void this.#flush()
      this.#ended(records.at(-1)!.event === 'done' ? 'done' : 'error')
      // The events before the terminal one go out now; the terminal one once it is durable.
      return this.#release()
    }
    if (this.#log.mustFlush) void this.#flush()
    else this.#flushTimer ??= setTimeout(() => this.#flushAfterSend(), this.#flushMs)
    if (Date.now() - this.#lastSentAt >= SEND_WINDOW_MS) this.#release()
    else this.#sendTimer ??= setTimeout(() => this.#release(), 0)
  }

  /**
   * Writes what the log holds unwritten as one row, now; resolves once it is durable. Readers do
   * not wait for it: they have had these events since `#release`, except those past the reserved
   * ids (a long burst) and the terminal event, which the log makes visible once durable.
   */
  #flush(): Promise<void> {
    clearTimeout(this.#flushTimer)
    this.#flushTimer = undefined
    this.#flushDue = false
    return this.#log.flush()
  }

  /**
   * The flush window is up. Writing blocks the object while it commits, and an event that
   * arrives meanwhile waits for it, so the write goes just after the next send, when the readers
   * have their events and the next are furthest off (`ours-resumable`'s added p99 latency: 5.0
   * against 3.6 ms with no writes at all, issue 30). Should nothing be sent for another window,
   * it is written then.
   */
  #flushAfterSend(): void {
    this.#flushDue = true
    this.#flushTimer = setTimeout(() => void this.#flush(), this.#flushMs)
  }

  /** Gives the live readers every event they may have now and have not had. */
  #release(): void {
    clearTimeout(this.#sendTimer)
    this.#sendTimer = undefined
    this.#lastSentAt = Date.now()
    const visible = this.#log.visibleId
    if (visible <= this.#released) return
    const events = this.#log.after(this.#released, Infinity)
    this.#released = visible
    if (!events.length) return
    for (const reader of this.#readers) reader.deliver(events)
    if (this.#flushDue) {
      // In a turn of its own, once the events are on their way.
      this.#flushDue = false
      clearTimeout(this.#flushTimer)
      this.#flushTimer = setTimeout(() => void this.#flush(), 0)
    }
  }

  /** Ends a running stream with an error the pipeline did not produce (stop, restart, limits). */
  #end(error: ErrorEventData): Promise<void> {
    const meta = this.#log.meta
    if (meta?.state !== 'running') return Promise.resolve()
    const pipeline = this.#pipeline
    // What the pipeline produced before this comes first; the error is stored with it, in one row.
    this.#log.append([{ event: 'error', data: JSON.stringify(error) }])
    const durable = this.#flush()
    this.#ended('error')
    this.#release()
    // Cancelling the pipeline cancels the upstream request: nobody pays for the rest.
    pipeline?.cancel().catch(() => {})
    return durable
  }

  #ended(endedWith: 'done' | 'error'): void {
    const meta = this.#log.meta!
    const endedAt = Date.now()
    clearTimeout(this.#flushTimer)
    this.#log.update({ ...meta, state: 'ended', endedAt, endedWith })
    // What the stream cost in storage (Cloudflare bills SQLite rows written); never its content.
    log.info('stream stored', { events: this.#log.lastId, bytes: this.#bytes, rowsWritten: this.#log.rowsWritten })
    this.#pipeline = undefined
    void this.#setAlarm(endedAt + meta.retentionMs)
  }

  #scheduleAbandon(): void {
    const meta = this.#log.meta
    if (meta?.state !== 'running' || meta.abandonMs === null || this.#readers.size > 0) return
    this.#unreadSince = Date.now()
    void this.#setAlarm(this.#unreadSince + meta.abandonMs)
  }

  #setAlarm(at: number): Promise<void> {
    return this.ctx.storage.setAlarm(at)
  }
}

const internalError = () =>
  new GatewayError(500, 'internal_error', 'The gateway failed to start the answer.', { retryable: true })

function refusal(error: GatewayError): Refusal {
  return { status: error.status, code: error.code, message: error.message, options: error.options }
}
