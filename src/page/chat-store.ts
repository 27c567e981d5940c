/**
 * The person's chats, kept in this browser's `localStorage`: each chat under its own key, so
 * saving one (several times a second while an answer streams, at most) never rewrites the others.
 *
 * What is stored is what the page shows: every message, every answer with its state (an answer
 * that was stopped or failed stays, marked), and the id of the answer still being written, so a
 * reload continues it. Which chat is open is per tab (`sessionStorage`).
 */
import type { ChatMessage } from '../client'
import type { ContentPart } from './image-attachment'
import type { AnswerFacts } from './message-items'

/** How an answer ended; `pending` while it is still being written (it has a stream to resume). */
export type StoredAnswerState = 'pending' | 'finished' | 'stopped' | 'failed' | 'connection-lost' | 'refused'

export type StoredMessage =
  | { role: 'user'; content: string | ContentPart[] }
  | {
      role: 'assistant'
      content: string
      state: StoredAnswerState
      /** Why it ended as it did, as shown under it (the gateway's message, a length cut). */
      detail?: string
      reasoning?: string
      /** The resumable stream writing it, while `pending`. */
      streamId?: string
      /** When it was asked (`Date.now()`), to say how long it took, even across a reload. */
      sentAt?: number
      /** What answered and what it cost, shown under a finished answer. */
      facts?: AnswerFacts
      /** False for a refusal asking again cannot change (a message over the limit): no "Try again". */
      retry?: boolean
    }

export interface StoredChat {
  id: string
  title: string
  model: string
  updatedAt: number
  messages: StoredMessage[]
}

export interface ChatSummary {
  id: string
  title: string
  updatedAt: number
}

const PREFIX = 'llm-stream-gateway:'
const INDEX_KEY = `${PREFIX}chats`
const chatKey = (id: string) => `${PREFIX}chat:${id}`
const OPEN_CHAT_KEY = `${PREFIX}open-chat`
const TITLE_CHARS = 60

/** The list, newest first. */
export function listChats(): ChatSummary[] {
  const index = readJson<ChatSummary[]>(localStorage, INDEX_KEY) ?? []
  return index.filter((chat) => typeof chat?.id === 'string').sort((a, b) => b.updatedAt - a.updatedAt)
}

export function loadChat(id: string): StoredChat | undefined {
  const chat = readJson<StoredChat>(localStorage, chatKey(id))
  return chat && Array.isArray(chat.messages) ? chat : undefined
}

/** A chat not yet saved: it enters the list with its first message. */
export function newChat(model: string): StoredChat {
  return { id: crypto.randomUUID(), title: '', model, updatedAt: Date.now(), messages: [] }
}

/** A title from the chat's first message: its first line, shortened. */
export function titleFrom(content: string | ContentPart[]): string {
  const text =
    typeof content === 'string' ? content : content.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join(' ')
  const line = text.replace(/\s+/g, ' ').trim() || 'Image'
  return line.length > TITLE_CHARS ? `${line.slice(0, TITLE_CHARS - 1).trimEnd()}…` : line
}

export function saveChat(chat: StoredChat): void {
  if (!chat.messages.length) return
  chat.updatedAt = Date.now()
  if (!write(chatKey(chat.id), chat)) {
    // Over the browser's quota (images are large): keep the words, say the images were not kept.
    write(chatKey(chat.id), { ...chat, messages: chat.messages.map(withoutImages) })
  }
  const index = listChats().filter((entry) => entry.id !== chat.id)
  index.unshift({ id: chat.id, title: chat.title, updatedAt: chat.updatedAt })
  write(INDEX_KEY, index)
}

export function renameChat(id: string, title: string): void {
  const chat = loadChat(id)
  if (!chat) return
  chat.title = title
  write(chatKey(id), chat)
  write(
    INDEX_KEY,
    listChats().map((entry) => (entry.id === id ? { ...entry, title } : entry)),
  )
}

export function deleteChat(id: string): void {
  localStorage.removeItem(chatKey(id))
  write(
    INDEX_KEY,
    listChats().filter((entry) => entry.id !== id),
  )
}

/** The chat this tab has open, to reopen it after a reload. */
export const openChatId = {
  get: () => sessionStorage.getItem(OPEN_CHAT_KEY) ?? undefined,
  set: (id: string) => sessionStorage.setItem(OPEN_CHAT_KEY, id),
}

/**
 * What is sent as the conversation: each question with its answer, only where the answer
 * finished. A question whose answer was stopped, failed or refused is not sent again, nor is
 * that answer, unless the person asks again (regenerate, edit and resend).
 */
export function historyOf(messages: StoredMessage[]): ChatMessage[] {
  const history: ChatMessage[] = []
  for (let i = 0; i + 1 < messages.length; i++) {
    const question = messages[i]!
    const answer = messages[i + 1]!
    if (question.role === 'user' && answer.role === 'assistant' && answer.state === 'finished') {
      history.push({ role: 'user', content: question.content }, { role: 'assistant', content: answer.content })
    }
  }
  return history
}

function withoutImages(message: StoredMessage): StoredMessage {
  if (message.role !== 'user' || typeof message.content === 'string') return message
  const text = message.content.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('\n')
  return { role: 'user', content: `${text}\n\n(An image was attached; it was too large to keep in this browser.)` }
}

function write(key: string, value: unknown): boolean {
  try {
    localStorage.setItem(key, JSON.stringify(value))
    return true
  } catch {
    return false
  }
}

function readJson<T>(storage: Storage, key: string): T | undefined {
  try {
    return JSON.parse(storage.getItem(key) ?? 'null') ?? undefined
  } catch {
    return undefined // a damaged entry is no chat
  }
}
