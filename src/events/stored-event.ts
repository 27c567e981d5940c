import type { ChatEventName } from './chat-events'

/** One event as the log keeps it: its name and its data, already JSON. */
export interface EventRecord {
  event: ChatEventName
  data: string
}

/** An event in the log, numbered: its `id` is the SSE id every reader sees. */
export interface StoredEvent extends EventRecord {
  id: number
}

/** `done` and `error` end a stream; nothing follows them. */
export const isTerminal = (event: ChatEventName) => event === 'done' || event === 'error'
