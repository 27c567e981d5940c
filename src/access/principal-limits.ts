import { DurableObject } from 'cloudflare:workers'
import { log } from '../log'

export interface AdmitRequest {
  leaseId: string
  dailyTokens?: number
  concurrentStreams?: number
  /** Estimated prompt tokens (the upstream's count is known only at the end). */
  promptTokens: number
  /** The answer's `max_tokens`, when it has one; lowered here to what is left of the budget. */
  maxTokens?: number
  /** When to free the slot if nobody settles the lease (a crash, an evicted object). */
  ttlMs: number
}

export type AdmitResult =
  | { ok: true; maxTokens?: number; reservedTokens: number; expiresAt: number }
  | { ok: false; code: 'budget_exhausted' | 'too_many_streams'; retryAfterSeconds?: number }

export interface SettleRequest {
  leaseId: string
  tokens: number
  /** The tokens are the gateway's estimate: the upstream reported no usage. */
  estimated: boolean
  /** The answer did not finish (error or cancelled). */
  partial: boolean
}

export interface DayUsage {
  day: string
  tokens: number
  estimatedTokens: number
  answers: number
  partialAnswers: number
  expiredLeases: number
  openStreams: number
  reservedTokens: number
}

const DAY_MS = 86_400_000
/** Settled and expired leases are kept this long (so a late or repeated settle is recognised), then purged. */
const LEASE_RETENTION_MS = 2 * DAY_MS
const DAY_RETENTION = 31

/**
 * One per principal (by `idFromName(principal.id)`): its daily token budget and its open streams.
 * A Durable Object is the one place where "check, then reserve" can be atomic for a principal
 * whose requests arrive at many Cloudflare locations at once. Each method runs its SQL without
 * awaiting anything in between, so no other request interleaves.
 *
 * An answer takes a lease when admitted and gives it back when settled. The lease reserves the
 * prompt's estimate plus `max_tokens`, so answers running at the same time cannot together
 * overspend what is left. A lease nobody settles (the Worker crashed, the object running the
 * answer was evicted) expires after its TTL: its slot is freed and its reservation is charged as
 * an estimate, found lazily by the next admission or by the alarm set for the earliest expiry.
 */
export class PrincipalLimits extends DurableObject<Env> {
  readonly #sql: SqlStorage

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.#sql = ctx.storage.sql
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS leases (
      id TEXT PRIMARY KEY,
      state TEXT NOT NULL,
      reserved INTEGER NOT NULL,
      charged INTEGER NOT NULL DEFAULT 0,
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL
    )`)
    this.#sql.exec('CREATE INDEX IF NOT EXISTS leases_by_state ON leases (state, expires_at)')
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS days (
      day TEXT PRIMARY KEY,
      tokens INTEGER NOT NULL DEFAULT 0,
      estimated_tokens INTEGER NOT NULL DEFAULT 0,
      answers INTEGER NOT NULL DEFAULT 0,
      partial_answers INTEGER NOT NULL DEFAULT 0,
      expired_leases INTEGER NOT NULL DEFAULT 0
    )`)
  }

  async admit(request: AdmitRequest): Promise<AdmitResult> {
    const now = Date.now()
    this.#expireLeases(now)
    const open = this.#openLeases()
    if (request.concurrentStreams !== undefined && open.count >= request.concurrentStreams) {
      return { ok: false, code: 'too_many_streams' }
    }
    let maxTokens = request.maxTokens
    if (request.dailyTokens !== undefined) {
      const remaining = request.dailyTokens - this.#day(now).tokens - open.reserved
      // Not even room for the prompt: refuse until the day turns (UTC), rather than overspend.
      if (remaining <= request.promptTokens) {
        return { ok: false, code: 'budget_exhausted', retryAfterSeconds: Math.ceil((nextDay(now) - now) / 1000) }
      }
      if (maxTokens !== undefined) maxTokens = Math.min(maxTokens, remaining - request.promptTokens)
    }
    const reservedTokens = request.promptTokens + (maxTokens ?? 0)
    const expiresAt = now + request.ttlMs
    this.#sql.exec(
      `INSERT INTO leases (id, state, reserved, created_at, expires_at) VALUES (?, 'open', ?, ?, ?)`,
      request.leaseId,
      reservedTokens,
      now,
      expiresAt,
    )
    await this.#scheduleAlarm(now)
    return { ok: true, maxTokens, reservedTokens, expiresAt }
  }

  /** Records what an answer cost and frees its slot. Safe to call twice, or after the lease expired. */
  async settle(request: SettleRequest): Promise<void> {
    const now = Date.now()
    const lease = this.#sql
      .exec<{ state: string; charged: number }>('SELECT state, charged FROM leases WHERE id = ?', request.leaseId)
      .toArray()[0]
    if (lease?.state === 'settled') return
    // An expired lease was charged its reservation as an estimate; now the real figure is known.
    const tokens = request.tokens - (lease?.charged ?? 0)
    this.#addToDay(now, {
      tokens,
      estimated_tokens: request.estimated ? request.tokens : 0,
      answers: 1,
      partial_answers: request.partial ? 1 : 0,
    })
    if (lease) {
      this.#sql.exec(`UPDATE leases SET state = 'settled', charged = ? WHERE id = ?`, request.tokens, request.leaseId)
    } else {
      // Unknown (purged, or admitted before this object's storage was reset): still a real cost.
      this.#sql.exec(
        `INSERT INTO leases (id, state, reserved, charged, created_at, expires_at) VALUES (?, 'settled', 0, ?, ?, ?)`,
        request.leaseId,
        request.tokens,
        now,
        now,
      )
    }
    await this.#scheduleAlarm(now)
  }

  /** Today's figures (UTC), for tests and operators. */
  async usage(): Promise<DayUsage> {
    const now = Date.now()
    this.#expireLeases(now)
    const day = this.#day(now)
    const open = this.#openLeases()
    return {
      day: dayOf(now),
      tokens: day.tokens,
      estimatedTokens: day.estimated_tokens,
      answers: day.answers,
      partialAnswers: day.partial_answers,
      expiredLeases: day.expired_leases,
      openStreams: open.count,
      reservedTokens: open.reserved,
    }
  }

  override async alarm(): Promise<void> {
    const now = Date.now()
    this.#expireLeases(now)
    this.#sql.exec(`DELETE FROM leases WHERE state != 'open' AND created_at < ?`, now - LEASE_RETENTION_MS)
    this.#sql.exec(`DELETE FROM days WHERE day < ?`, dayOf(now - DAY_RETENTION * DAY_MS))
    await this.ctx.storage.deleteAlarm()
    await this.#scheduleAlarm(now)
  }

  #openLeases(): { count: number; reserved: number } {
    return this.#sql
      .exec<{
        count: number
        reserved: number
      }>(`SELECT COUNT(*) AS count, COALESCE(SUM(reserved), 0) AS reserved FROM leases WHERE state = 'open'`)
      .one()
  }

  #day(now: number): {
    tokens: number
    estimated_tokens: number
    answers: number
    partial_answers: number
    expired_leases: number
  } {
    return (
      this.#sql
        .exec<{
          tokens: number
          estimated_tokens: number
          answers: number
          partial_answers: number
          expired_leases: number
        }>(
          'SELECT tokens, estimated_tokens, answers, partial_answers, expired_leases FROM days WHERE day = ?',
          dayOf(now),
        )
        .toArray()[0] ?? { tokens: 0, estimated_tokens: 0, answers: 0, partial_answers: 0, expired_leases: 0 }
    )
  }

  #addToDay(
    now: number,
    add: {
      tokens?: number
      estimated_tokens?: number
      answers?: number
      partial_answers?: number
      expired_leases?: number
    },
  ): void {
    this.#sql.exec(
      `INSERT INTO days (day, tokens, estimated_tokens, answers, partial_answers, expired_leases) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (day) DO UPDATE SET tokens = tokens + excluded.tokens,
         estimated_tokens = estimated_tokens + excluded.estimated_tokens, answers = answers + excluded.answers,
         partial_answers = partial_answers + excluded.partial_answers, expired_leases = expired_leases + excluded.expired_leases`,
      dayOf(now),
      add.tokens ?? 0,
      add.estimated_tokens ?? 0,
      add.answers ?? 0,
      add.partial_answers ?? 0,
      add.expired_leases ?? 0,
    )
  }

  /** Frees the slots of leases past their TTL, charging each its reservation as an estimate. */
  #expireLeases(now: number): void {
    const expired = this.#sql
      .exec<{ id: string; reserved: number }>(
        `SELECT id, reserved FROM leases WHERE state = 'open' AND expires_at <= ?`,
        now,
      )
      .toArray()
    for (const lease of expired) {
      this.#sql.exec(`UPDATE leases SET state = 'expired', charged = reserved WHERE id = ?`, lease.id)
      this.#addToDay(now, { tokens: lease.reserved, estimated_tokens: lease.reserved, expired_leases: 1 })
    }
    if (expired.length) {
      log.warn('stream leases expired without being settled', { count: expired.length })
    }
  }

  /**
   * An alarm at the earliest open lease's expiry, or a day on while old rows wait to be purged.
   * Only ever moved earlier (the alarm handler sets the next one), so busy traffic cannot keep
   * pushing the purge away.
   */
  async #scheduleAlarm(now: number): Promise<void> {
    const next = this.#sql
      .exec<{ at: number | null }>(`SELECT MIN(expires_at) AS at FROM leases WHERE state = 'open'`)
      .one().at
    const anyOld = this.#sql.exec(`SELECT 1 FROM leases WHERE state != 'open' LIMIT 1`).toArray().length > 0
    const wanted = next ?? (anyOld ? now + DAY_MS : null)
    const current = await this.ctx.storage.getAlarm()
    if (wanted !== null && (current === null || wanted < current)) await this.ctx.storage.setAlarm(wanted)
  }
}

function dayOf(time: number): string {
  return new Date(time).toISOString().slice(0, 10)
}

function nextDay(time: number): number {
  return (Math.floor(time / DAY_MS) + 1) * DAY_MS
}
