/**
 * The chat page served at `/`. Plain DOM and the gateway's own client module; bundled to
 * `public/app.js` by the `[build]` step in wrangler.toml.
 *
 * Answers are resumable streams (`/api/streams`): a dropped connection reconnects and carries
 * on, and a reload in the middle of an answer shows it so far and continues it, because the
 * conversation and the id of the answer being written are kept in `sessionStorage`.
 */
import { ChatStreamError, resumeChat, startResumableChat, type ChatMessage, type ResumableChat } from '../client'

/** What an answer on the page is doing; each state has its own text, so no two can be confused. */
type AnswerState = 'waiting' | 'streaming' | 'reconnecting' | 'finished' | 'stopped' | 'failed' | 'connection-lost'

const STATE_TEXT: Record<AnswerState, string> = {
  waiting: 'Waiting for the first token…',
  streaming: 'Streaming…',
  reconnecting: 'Connection lost. Reconnecting…',
  finished: 'Finished.',
  stopped: 'Stopped by you. The answer is incomplete.',
  failed: 'Failed. The answer is incomplete.',
  'connection-lost': 'Connection lost. The answer is incomplete.',
}

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const conversation = element<HTMLOListElement>('conversation')
const status = element<HTMLParagraphElement>('status')
const form = element<HTMLFormElement>('composer')
const prompt = element<HTMLTextAreaElement>('prompt')
const modelPicker = element<HTMLSelectElement>('model')
const sendButton = element<HTMLButtonElement>('send')
const stopButton = element<HTMLButtonElement>('stop')

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
  const body = document.createElement('span')
  body.className = 'text'
  body.textContent = text
  item.append(body)
  conversation.append(item)
  item.scrollIntoView({ block: 'end' })
  return { item, body }
}

function setState(item: HTMLElement, state: AnswerState, detail?: string): void {
  item.dataset.state = state
  let label = item.querySelector<HTMLElement>('.state')
  if (!label) {
    label = document.createElement('span')
    label.className = 'state'
    item.append(label)
  }
  label.textContent = detail ? `${STATE_TEXT[state]} ${detail}` : STATE_TEXT[state]
  status.textContent = label.textContent
}

async function send(content: string): Promise<void> {
  history.push({ role: 'user', content })
  addMessage('user', content)
  const answer = addMessage('assistant', '')
  setState(answer.item, 'waiting')
  await follow(answer, async () => {
    const stream = await startResumableChat(
      { model: modelPicker.value, messages: history },
      { onReconnect: () => setState(answer.item, 'reconnecting') },
    )
    save(stream.id)
    return stream
  })
}

/** Picks up the answer that was being written when the page was left. */
async function resume(streamId: string): Promise<void> {
  const answer = addMessage('assistant', '')
  setState(answer.item, 'waiting')
  await follow(answer, async () => resumeChat(streamId, { onReconnect: () => setState(answer.item, 'reconnecting') }))
}

/** Shows an answer as it arrives, until it ends one way or another. */
async function follow(answer: ReturnType<typeof addMessage>, open: () => Promise<ResumableChat>): Promise<void> {
  sendButton.disabled = true
  stopButton.disabled = false
  let text = ''
  try {
    generation = await open()
    for await (const event of generation) {
      if (event.event === 'delta') {
        if (answer.item.dataset.state !== 'streaming') setState(answer.item, 'streaming')
        text += event.data.text
        answer.body.textContent = text
      } else if (event.event === 'done') {
        history.push({ role: 'assistant', content: text })
        setState(answer.item, 'finished', event.data.finish_reason === 'length' ? '(Cut at the length limit.)' : '')
      }
    }
  } catch (error) {
    if (error instanceof ChatStreamError && error.code === 'cancelled') setState(answer.item, 'stopped')
    else if (error instanceof ChatStreamError && (error.kind === 'truncated' || error.kind === 'network'))
      setState(answer.item, 'connection-lost')
    else setState(answer.item, 'failed', error instanceof Error ? error.message : String(error))
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
  prompt.value = ''
  void send(content)
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
    addMessage(message.role === 'user' ? 'user' : 'assistant', message.content)
  }
  if (saved.pendingStreamId) void resume(saved.pendingStreamId)
}

restore()
loadModels().catch(() => (status.textContent = 'Could not load the list of models.'))
