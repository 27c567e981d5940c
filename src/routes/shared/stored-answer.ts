import type { Context } from 'hono'
import type { Admission } from '../../access/admission'
import { releaseAnswer } from '../../access/leases'
import type { AppEnv } from '../../app-env'
import { durableObjects } from '../../config/bindings'
import { GatewayError } from '../../errors'
import type { FormatChoice } from '../../formats'
import type { BeginResult, ReadOptions } from '../../streams/answer-stream'
import { newStreamId } from '../../streams/stream-id'
import { recordRefusal } from './answer'
import { inBackground } from './background'

/**
 * The surfaces that keep answers, each in its own part of the objects' namespace; `cache` holds
 * the response cache's answers, each named by its cache key (`cached-answer.ts`).
 */
export type StoringSurface = 'streams' | 'responses' | 'ui-chat' | 'cache'

/**
 * The Durable Object that owns a stored answer, by its surface and stream id. An id handed out
 * by one surface names nothing in another (a Responses id's suffix is no `/api/streams` id):
 * each surface's names are its own. `/api/streams` keeps the bare id, which no prefixed name can
 * equal (`:` is not in an id's alphabet), so its answers made before this still resolve.
 */
export function answerStream(c: Context<AppEnv>, surface: StoringSurface, streamId: string) {
  const namespace = durableObjects(c.env, 'ANSWER_STREAMS')
  return namespace.get(namespace.idFromName(surface === 'streams' ? streamId : `${surface}:${streamId}`))
}

/** A stored answer that has started: its id, its object, and when it is gone for good. */
export interface StoredAnswer {
  streamId: string
  stream: ReturnType<typeof answerStream>
  /** The latest it can end, plus how long it is kept after. */
  expiresAt: number
  /** Upstream requests it took to start, for the response's `X-Gateway-Attempts`. */
  attempts: number
}

/**
 * Starts an admitted answer in a Durable Object of its own, which opens the upstream and from
 * then on owns the answer, whoever reads it. A refusal before the answer starts (every upstream
 * refused) gives the lease back and throws its error, and so does any failure to start. Null when whoever asked left while the
 * upstream was being opened, before learning of the answer: nobody can ever read it, so it is
 * stopped at once and nobody pays for it.
 *
 * `startId` is the id the answer's `start` event carries: the stream id itself by default (a
 * function of the stream id where the two are related). `unattended` answers run to their end
 * whether anyone reads them or not; `attachment` is kept beside the answer (see `Attachment`).
 */
export async function beginStoredAnswer(
  c: Context<AppEnv>,
  surface: StoringSurface,
  { request, lease, fallbacks }: Admission,
  {
    startId,
    unattended = false,
    attachment,
    owner,
  }: {
    startId?: string | ((streamId: string) => string)
    unattended?: boolean
    attachment?: string
    /** Who alone may read, stop or delete it (see `StreamSettings.owner`). */
    owner?: string
  } = {},
): Promise<StoredAnswer | null> {
  const { config } = c.var
  const startedAt = Date.now()
  const streamId = newStreamId()
  const stream = answerStream(c, surface, streamId)
  let begun: BeginResult
  try {
    begun = await stream.begin(request, {
      id: typeof startId === 'function' ? startId(streamId) : (startId ?? streamId),
      path: c.req.path,
      streamId,
      config,
      retentionMs: config.streamRetentionMs,
      abandonMs: unattended ? null : config.streamAbandonMs,
      maxBytes: config.streamMaxBytes,
      flushMs: config.streamFlushMs,
      lease,
      fallbacks,
      attachment,
      owner,
      ignoredFields: c.var.ignoredFields,
    })
  } catch (error) {
    // The object failed rather than refused (or the call never reached it): no answer started,
    // so its slot and reservation are given back now, not when the lease expires.
    inBackground(c, releaseAnswer(c.env, lease))
    throw error
  }
  if (!begun.ok) {
    const { status, code, message, options } = begun.refusal
    const error = new GatewayError(status, code, message, options)
    recordRefusal(c, { request, lease, fallbacks }, error, startedAt)
    throw error
  }
  if (c.req.raw.signal.aborted) {
    await stream.cancel(owner)
    return null
  }
  const expiresAt = begun.createdAt + config.streamDeadlineMs + config.streamRetentionMs
  return { streamId, stream, expiresAt, attempts: begun.attempts }
}

/** How a reader reads a stored answer: in this format, with the gateway's heartbeat and retry hint. */
export function readOptions(c: Context<AppEnv>, format: FormatChoice, extra: Partial<ReadOptions> = {}): ReadOptions {
  const { heartbeatMs, retryMs } = c.var.config
  return { heartbeatMs, retryMs, format, ...extra }
}

/** 499: nginx's "client closed request", for an answer whose asker left before it began. */
export const clientClosed = () => new Response(null, { status: 499 })
