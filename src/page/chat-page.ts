/**
 * The chat page served at `/`. Plain DOM and the gateway's own client module; bundled to
 * `public/app.js` by the `[build]` step in wrangler.toml.
 *
 * Answers are resumable streams (`/api/streams`): a dropped connection reconnects and carries
 * on, and a reload in the middle of an answer shows it so far and continues it, because the
 * conversation and the id of the answer being written are kept in `sessionStorage`.
 */
import { ChatStreamError, resumeChat, startResumableChat, type ChatMessage, type ResumableChat } from '../client'
import { createAnswerView, type AnswerView } from './answer-view'
import { createImageAttachment, messageContent, showAttachedImage, type ContentPart } from './image-attachment'

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const conversation = element<HTMLOListElement>('conversation')
const status = element<HTMLParagraphElement>('status')
const form = element<HTMLFormElement>('composer')
const prompt = element<HTMLTextAreaElement>('prompt')
const modelPicker = element<HTMLSelectElement>('model')
const sendButton = element<HTMLButtonElement>('send')
const stopButton = element<HTMLButtonElement>('stop')
const attachment = createImageAttachment({
  input: element('image'),
  button: element('attach'),
  preview: element('attachment'),
  onError: (message) => (status.textContent = message),
})

/** The turns sent with each request: the user's messages and only the answers that finished. */
const history: ChatMessage[] = []
/** The answer being written, if any. */
let generation: ResumableChat | undefined

/** What survives a reload: the conversation, and the answer still being written. */
interface SavedChat {
  history: ChatMessage[]
  pendingStreamId?: string
}
const SAVED_CHAT = 'llm-stream-gateway:chat'

function save(pendingStreamId?: string): void {
  sessionStorage.setItem(SAVED_CHAT, JSON.stringify({ history, pendingStreamId } satisfies SavedChat))
}

async function loadModels(): Promise<void> {
  const response = await fetch('/api/models')
  const { default: defaultModel, models } = (await response.json()) as { default: string; models: string[] }
  for (const name of models) modelPicker.add(new Option(name, name, false, name === defaultModel))
}

function addMessage(role: 'user' | 'assistant', text: string) {
  const item = document.createElement('li')
  item.className = `message ${role}`
  if (text) {
    const body = document.createElement('span')
    body.className = 'text'
    body.textContent = text
    item.append(body)
  }
  conversation.append(item)
  item.scrollIntoView({ block: 'end' })
  return item
}

/** A user's turn on the page: its text, and the image it carried, if any. */
function showQuestion(content: string | ContentPart[]): void {
  const parts = typeof content === 'string' ? [{ type: 'text', text: content } as const] : content
  const text = parts.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('\n')
  const question = addMessage('user', text)
  for (const part of parts) if (part.type === 'image_url') showAttachedImage(question, part.image_url.url)
}

const newAnswer = () =>
  createAnswerView(addMessage('assistant', ''), { onStateChange: (label) => (status.textContent = label) })

async function send(text: string, imageUrl?: string): Promise<void> {
  const content = messageContent(text, imageUrl)
  history.push({ role: 'user', content })
  showQuestion(content)
  const answer = newAnswer()
  await follow(answer, async () => {
    try {
      const stream = await startResumableChat(
        { model: modelPicker.value, messages: history },
        { onReconnect: () => answer.setState('reconnecting') },
      )
      save(stream.id)
      return stream
    } catch (error) {
      // Refused outright: this turn never became part of the conversation, so it is not sent
      // again with the next one (an image the model cannot take would be refused every time).
      if (error instanceof ChatStreamError && error.kind === 'http') history.pop()
      throw error
    }
  })
}

/** Picks up the answer that was being written when the page was left. */
async function resume(streamId: string): Promise<void> {
  const answer = newAnswer()
  await follow(answer, async () => resumeChat(streamId, { onReconnect: () => answer.setState('reconnecting') }))
}

/** Shows an answer as it arrives, until it ends one way or another. */
async function follow(answer: AnswerView, open: () => Promise<ResumableChat>): Promise<void> {
  sendButton.disabled = true
  stopButton.disabled = false
  try {
    generation = await open()
    for await (const event of generation) {
      if (event.event === 'delta') answer.appendText(event.data.text)
      else if (event.event === 'reasoning') answer.appendReasoning(event.data.text)
      else if (event.event === 'done') {
        history.push({ role: 'assistant', content: answer.text })
        answer.setState('finished', event.data.finish_reason === 'length' ? '(Cut at the length limit.)' : '')
      }
    }
  } catch (error) {
    if (error instanceof ChatStreamError && error.code === 'cancelled') answer.setState('stopped')
    else if (error instanceof ChatStreamError && (error.kind === 'truncated' || error.kind === 'network'))
      answer.setState('connection-lost')
    else answer.setState('failed', error instanceof Error ? error.message : String(error))
  } finally {
    generation = undefined
    save()
    sendButton.disabled = false
    stopButton.disabled = true
    prompt.focus()
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault()
  const content = prompt.value.trim()
  if (!content || sendButton.disabled) return
  if (attachment.reading) return void (status.textContent = 'Still reading the image…')
  prompt.value = ''
  void send(content, attachment.take())
})

prompt.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault()
    form.requestSubmit()
  }
})

stopButton.addEventListener('click', () => {
  // The answer belongs to the gateway, not to this page's connection: stopping it is a request.
  generation?.stop().catch((error) => (status.textContent = `Could not stop the answer: ${String(error)}`))
})

/** Shows the conversation kept from before a reload, and continues the answer it was waiting for. */
function restore(): void {
  let saved: SavedChat | undefined
  try {
    saved = JSON.parse(sessionStorage.getItem(SAVED_CHAT) ?? 'null') ?? undefined
  } catch {
    // A damaged entry is no conversation.
  }
  if (!saved) return
  for (const message of saved.history) {
    history.push(message)
    if (message.role === 'user') showQuestion(message.content as string | ContentPart[])
    else {
      const answer = newAnswer()
      answer.appendText(message.content as string)
      answer.setState('finished')
    }
  }
  if (saved.pendingStreamId) void resume(saved.pendingStreamId)
}

restore()
loadModels().catch(() => (status.textContent = 'Could not load the list of models.'))
