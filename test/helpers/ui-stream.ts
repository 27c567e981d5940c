import { DefaultChatTransport, readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai'

/** What the real SDK made of a UI message stream: every chunk, the last message state, and any error. */
export interface SdkReading {
  chunks: UIMessageChunk[]
  message: UIMessage | undefined
  error: Error | undefined
}

/**
 * Reads a chunk stream as `useChat` does: `readUIMessageStream` (which builds the message with
 * the SDK's own `processUIMessageStream`, throwing on a chunk sequence it does not accept) with
 * `terminateOnError`, so an `error` chunk surfaces as the error an app would see.
 */
export async function readWithSdk(stream: ReadableStream<UIMessageChunk>): Promise<SdkReading> {
  const [forChunks, forMessages] = stream.tee()
  const chunks: UIMessageChunk[] = []
  const collecting = (async () => {
    for await (const chunk of forChunks) chunks.push(chunk)
  })().catch(() => {})
  let message: UIMessage | undefined
  let error: Error | undefined
  try {
    for await (const state of readUIMessageStream({ stream: forMessages, terminateOnError: true })) message = state
  } catch (caught) {
    error = caught as Error
  }
  await collecting
  return { chunks, message, error }
}

/**
 * The SDK's own transport over a body we already have (a stream the encoder wrote): its parser
 * and chunk schema check every line, as in a browser.
 */
export async function parseWithTransport(body: string | ReadableStream<Uint8Array>): Promise<SdkReading> {
  const transport = new DefaultChatTransport({
    api: 'http://gateway.test/api/ui/chat',
    fetch: async () => new Response(body, { headers: { 'Content-Type': 'text/event-stream' } }),
  })
  const stream = await transport.reconnectToStream({ chatId: 'chat' })
  return readWithSdk(stream!)
}

/** A message's text: its text parts, joined. */
export const textOfMessage = (message: UIMessage | undefined) =>
  (message?.parts ?? []).map((part) => (part.type === 'text' ? part.text : '')).join('')

/** A message's reasoning: its reasoning parts, joined. */
export const reasoningOfMessage = (message: UIMessage | undefined) =>
  (message?.parts ?? []).map((part) => (part.type === 'reasoning' ? part.text : '')).join('')
