import type { ChatEventName } from '../events/chat-events'
import { chatEvents, type LiveEncoder } from '../events/encoders'
import type { EventRecord } from '../events/stored-event'

/**
 * The pipeline's output as records for the event log instead of a client's wire format: a line
 * per event, `name TAB json`. JSON as `JSON.stringify` writes it holds no raw tab or newline,
 * so the lines split without parsing the JSON, and the data is stored (and replayed to SSE
 * readers) as the very string the pipeline made. Events, not bytes: a reader of any surface can
 * replay the same log in its own format.
 *
 * Heartbeats are per connection, so they are not recorded: each reader has its own.
 */
export function eventRecordFormat(): LiveEncoder {
  return chatEvents((event, data) => `${event}\t${JSON.stringify(data)}\n`, '')
}

/** The records in a chunk of `eventRecordFormat` output (the pipeline writes whole lines only). */
export function parseRecords(text: string): EventRecord[] {
  const records: EventRecord[] = []
  let start = 0
  for (let end = text.indexOf('\n'); end !== -1; start = end + 1, end = text.indexOf('\n', start)) {
    const tab = text.indexOf('\t', start)
    records.push({ event: text.slice(start, tab) as ChatEventName, data: text.slice(tab + 1, end) })
  }
  return records
}

/** Events as `parseRecords` reads them back: the lines the pipeline wrote, ids left out. */
export function formatRecords(records: EventRecord[]): string {
  let text = ''
  for (const { event, data } of records) text += `${event}\t${data}\n`
  return text
}
