/**
 * The chat page served at `/`. Plain DOM and the gateway's own client module; bundled to
 * `public/app.js` by the `[build]` step in wrangler.toml.
 */
import { ChatStreamError, streamChat, type ChatMessage } from '../client'

/** What an answer on the page is doing; each state has its own text, so no two can be confused. */
type AnswerState = 'waiting' | 'streaming' | 'finished' | 'stopped' | 'failed' | 'connection-lost'

const STATE_TEXT: Record<AnswerState, string> = {
  waiting: 'Waiting for the first token…',
  streaming: 'Streaming…',
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
let generation: AbortController | undefined

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
  generation = new AbortController()
  sendButton.disabled = true
  stopButton.disabled = false
  let text = ''
  try {
    const events = streamChat({ model: modelPicker.value, messages: history }, { signal: generation.signal })
    for await (const event of events) {
      if (event.event === 'delta') {
        if (!text) setState(answer.item, 'streaming')
        text += event.data.text
        answer.body.textContent = text
      } else if (event.event === 'done') {
        history.push({ role: 'assistant', content: text })
        setState(answer.item, 'finished', event.data.finish_reason === 'length' ? '(Cut at the length limit.)' : '')
      }
    }
  } catch (error) {
    if (generation.signal.aborted) setState(answer.item, 'stopped')
    else if (error instanceof ChatStreamError && (error.kind === 'truncated' || error.kind === 'network'))
      setState(answer.item, 'connection-lost')
    else setState(answer.item, 'failed', error instanceof Error ? error.message : String(error))
  } finally {
    generation = undefined
    sendButton.disabled = false
    stopButton.disabled = true
    prompt.focus()
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault()
  const content = prompt.value.trim()
  if (!content || generation) return
  prompt.value = ''
  void send(content)
})

prompt.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault()
    form.requestSubmit()
  }
})

stopButton.addEventListener('click', () => generation?.abort())

loadModels().catch(() => (status.textContent = 'Could not load the list of models.'))
