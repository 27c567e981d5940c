/**
 * The chat page served at `/`. Plain DOM and the gateway's own client module; bundled to
 * `public/app.js` by the `[build]` step in wrangler.toml.
 */
import { ChatStreamError, streamChat, type ChatMessage } from '../client'
import { createAnswerView } from './answer-view'
import { createImageAttachment, messageContent, showAttachedImage } from './image-attachment'

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
let generation: AbortController | undefined

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

async function send(text: string, imageUrl?: string): Promise<void> {
  // An image makes the content an array of parts; the cast goes once the request schema has them.
  history.push({ role: 'user', content: messageContent(text, imageUrl) as ChatMessage['content'] })
  const question = addMessage('user', text)
  if (imageUrl) showAttachedImage(question, imageUrl)
  const answer = createAnswerView(addMessage('assistant', ''), {
    onStateChange: (label) => (status.textContent = label),
  })
  generation = new AbortController()
  sendButton.disabled = true
  stopButton.disabled = false
  try {
    const events = streamChat({ model: modelPicker.value, messages: history }, { signal: generation.signal })
    for await (const event of events) {
      if (event.event === 'delta') answer.appendText(event.data.text)
      else if (event.event === 'reasoning') answer.appendReasoning(event.data.text)
      else if (event.event === 'done') {
        history.push({ role: 'assistant', content: answer.text })
        answer.setState('finished', event.data.finish_reason === 'length' ? '(Cut at the length limit.)' : '')
      }
    }
  } catch (error) {
    if (generation.signal.aborted) answer.setState('stopped')
    else if (error instanceof ChatStreamError && (error.kind === 'truncated' || error.kind === 'network'))
      answer.setState('connection-lost')
    else answer.setState('failed', error instanceof Error ? error.message : String(error))
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

stopButton.addEventListener('click', () => generation?.abort())

loadModels().catch(() => (status.textContent = 'Could not load the list of models.'))
