import { DurableObject } from 'cloudflare:workers'

/** What the index keeps for a chat: its latest answer's stream, and when that stream is gone anyway. */
interface ActiveAnswer {
  streamId: string
  expiresAt: number
}

const KEY = 'active'

/**
 * The object that knows a chat's latest answer, one per (owner, chat id): `useChat` resumes
 * and stops by chat id, which the client chooses, so the id alone must never lead to an answer.
 * Keyed by the owner too (a principal, or an anonymous caller's owner token), one owner's chat
 * id names nothing of another's, and the
 * stream id, the capability to the answer itself, never leaves the gateway on this surface.
 *
 * It holds one small record, and deletes it by alarm once the answer it names has expired
 * (deadline plus retention), so a chat leaves nothing behind.
 */
export class ChatIndex extends DurableObject<Env> {
  /**
   * Makes `streamId` the chat's active answer; returns the one it replaces, if any. Synchronous
   * storage: the record and its alarm are one write, and nothing can come between the read and it.
   */
  activate(streamId: string, expiresAt: number): string | null {
    const previous = this.ctx.storage.kv.get<ActiveAnswer>(KEY)
    this.ctx.storage.kv.put<ActiveAnswer>(KEY, { streamId, expiresAt })
    void this.ctx.storage.setAlarm(expiresAt)
    return previous?.streamId ?? null
  }

  /** The chat's latest answer's stream, or null when it has none (or it has expired). */
  active(): string | null {
    const active = this.ctx.storage.kv.get<ActiveAnswer>(KEY)
    return active && active.expiresAt > Date.now() ? active.streamId : null
  }

  override async alarm(): Promise<void> {
    const active = this.ctx.storage.kv.get<ActiveAnswer>(KEY)
    if (active && active.expiresAt > Date.now()) return this.ctx.storage.setAlarm(active.expiresAt)
    await this.ctx.storage.deleteAll()
  }
}

/**
 * The index object's name for a chat: the owner and the chat id, unambiguously (JSON, so no
 * choice of characters in either can make two pairs collide).
 */
export function chatIndexName(owner: string, chatId: string): string {
  return JSON.stringify([owner, chatId])
}
