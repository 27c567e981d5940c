/**
 * The chat page served at `/`. Plain DOM and the gateway's own client module; bundled into
 * `public/app/` by scripts/build-page.ts (the `[build]` step in wrangler.toml).
 *
 * Answers are resumable streams (`/api/streams`): a dropped connection reconnects and carries
 * on, and a reload in the middle of an answer shows it so far and continues it, because each
 * chat, with the id of the answer being written, is kept in the browser (chat-store.ts).
 */
import { ChatStreamError, resumeChat, startResumableChat, type ResumableChat } from '../client'
import { apiKey, authHeaders } from './api-key'
import { isEnded, type AnswerState, type AnswerView } from './answer-view'
import { createChatList } from './chat-list'
import {
  historyOf,
  loadChat,
  newChat,
  openChatId,
  saveChat,
  titleFrom,
  type StoredChat,
  type StoredMessage,
} from './chat-store'
import { createImageAttachment, messageContent, type ContentPart } from './image-attachment'
import { createAnswerItem, createQuestionItem, type AnswerFacts } from './message-items'
import { createModelPicker } from './model-picker'
import { describeRefusal, tooLongText } from './refusal-text'
import { followScroll } from './scroll-follow'
import { createSettingsDialog } from './settings-dialog'

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const conversation = element<HTMLOListElement>('conversation')
const scroller = element<HTMLElement>('scroller')
const emptyState = element<HTMLElement>('empty')
const status = element<HTMLDivElement>('status')
const notice = element<HTMLParagraphElement>('notice')
const form = element<HTMLFormElement>('composer')
const prompt = element<HTMLTextAreaElement>('prompt')
const sendButton = element<HTMLButtonElement>('send')
const stopButton = element<HTMLButtonElement>('stop')
const title = element<HTMLHeadingElement>('chat-title')
const composerWarning = element<HTMLParagraphElement>('composer-warning')

type AnswerMessage = Extract<StoredMessage, { role: 'assistant' }>

/**
 * The answer being read, if any: its stream, and how to stop reading it (not the answer).
 * `stopped`: the person stopped it before the gateway had accepted it (no stream to stop yet).
 */
let current: { controller: AbortController; generation?: ResumableChat; stopped?: boolean } | undefined
let chat: StoredChat

const showNotice = (message = '') => {
  notice.textContent = message
  notice.hidden = !message
}
/**
 * Screen readers hear that the model is working, once, then each answer once, when it ends,
 * rather than every token as it arrives.
 */
const announce = (text: string) => (status.textContent = text)

const attachment = createImageAttachment({
  input: element('image'),
  button: element('attach'),
  preview: element('attachment'),
  onError: showNotice,
})
const follow = followScroll(scroller, conversation, element('jump'))
const picker = createModelPicker(element('model'), (model) => {
  chat.model = model
  saveChat(chat)
})
const settings = createSettingsDialog(async (key) => {
  const problem = await picker.load(key)
  if (!problem) {
    showNotice()
    chat.model = picker.value
  }
  return problem
})
const chatList = createChatList({
  open: (id) => openChat(loadChat(id) ?? newChat(picker.value)),
  deleted: (id) => {
    if (id === chat.id) openChat(newChat(picker.value))
    else chatList.render(chat.id)
  },
  renamed: (id, newTitle) => {
    if (id === chat.id) showTitle((chat.title = newTitle))
  },
})

function showTitle(text: string) {
  title.textContent = text || 'New chat'
  document.title = text ? `${text} · LLM stream gateway` : 'LLM stream gateway'
}

/** Shows a chat: its messages, its model, and the answer it is still waiting for, continued. */
function openChat(next: StoredChat) {
  current?.controller.abort() // stop reading; the answer goes on at the gateway, for later
  announce('') // the last chat's answer must not linger where a screen reader can still find it
  chat = next
  openChatId.set(chat.id)
  showTitle(chat.title)
  picker.select(chat.model)
  conversation.replaceChildren()
  chat.messages.forEach((message, index) => {
    if (message.role === 'user') conversation.append(questionItem(message.content))
    else if (message.state === 'pending' && message.streamId && index === chat.messages.length - 1) {
      const streamId = message.streamId
      const answer = answerItem(true)
      read(answer, message, (signal) =>
        Promise.resolve(
          resumeChat(streamId, { headers: authHeaders(), signal, onReconnect: reconnecting(answer.view) }),
        ),
      )
    } else {
      const answer = answerItem(false)
      answer.view.appendReasoning(message.reasoning ?? '')
      answer.view.appendText(message.content)
      // An answer left pending by a page closed before it had a stream id never started.
      answer.view.setState(message.state === 'pending' ? 'connection-lost' : message.state, message.detail)
      showActions(answer, message)
    }
  })
  showEmptyState()
  chatList.render(chat.id)
  follow.toEnd()
}

const showEmptyState = () => (emptyState.hidden = chat.messages.length > 0)
const indexOf = (item: Element) => [...conversation.children].indexOf(item)

function questionItem(content: string | ContentPart[]) {
  const item = createQuestionItem(content, (text) => {
    if (current) return
    const index = indexOf(item)
    const previous = chat.messages[index] as Extract<StoredMessage, { role: 'user' }>
    // Editing keeps an attached image, with the new words.
    const image =
      typeof previous.content === 'string' ? undefined : previous.content.find((p) => p.type === 'image_url')
    const content = messageContent(text, image?.type === 'image_url' ? image.image_url.url : undefined)
    chat.messages[index] = { role: 'user', content }
    if (index === 0) showTitle((chat.title = titleFrom(content)))
    item.replaceWith(questionItem(content))
    ask(index)
  })
  return item
}

/** An answer's list item; `live` when it is being read now, so its end is announced. */
function answerItem(live: boolean) {
  const answer = createAnswerItem({
    onStateChange: (state, label) => {
      if (!live) return
      if (state === 'waiting') announce('The model is working on the answer.')
      else if (isEnded(state)) announce(state === 'finished' ? `Answer: ${answerText(answer.item)}` : label)
    },
  })
  conversation.append(answer.item)
  return answer
}

const answerText = (item: HTMLElement) => item.querySelector('.markdown')?.textContent ?? ''
const reconnecting = (view: AnswerView) => () => view.setState('reconnecting')

/**
 * Copy on every answer that has text, and what answered with its tokens and time; Regenerate (or
 * Try again) on the last, unless asking again cannot change the outcome.
 */
function showActions(answer: ReturnType<typeof createAnswerItem>, stored: AnswerMessage) {
  const isLast = () => indexOf(answer.item) === chat.messages.length - 1
  for (const item of conversation.querySelectorAll('.message.assistant .regenerate')) item.remove()
  answer.showActions(
    isLast() && stored.retry !== false
      ? () => {
          if (!current && isLast()) ask(indexOf(answer.item) - 1)
        }
      : undefined,
    stored.state === 'finished' ? stored.facts : undefined,
  )
}

/** Sends the question at `index` with the history before it, replacing whatever came after it. */
function ask(index: number) {
  chat.messages.length = index + 1
  while (conversation.children.length > index + 1) conversation.lastElementChild!.remove()
  const question = chat.messages[index] as Extract<StoredMessage, { role: 'user' }>
  const model = picker.value
  const request = { model, messages: [...historyOf(chat.messages.slice(0, index)), question] }
  const stored: AnswerMessage = { role: 'assistant', content: '', state: 'pending', sentAt: Date.now() }
  chat.messages.push(stored)
  chat.model = model
  saveChat(chat)
  chatList.render(chat.id)
  showEmptyState()
  follow.toEnd()
  const answer = answerItem(true)
  read(
    answer,
    stored,
    (signal) => startResumableChat(request, { headers: authHeaders(), signal, onReconnect: reconnecting(answer.view) }),
    model,
  )
}

/**
 * Shows an answer as it arrives, until it ends one way or another, and keeps how it ended. When
 * another chat is opened meanwhile, only the reading stops: the answer stays pending, to be
 * continued when this chat is opened again.
 */
async function read(
  answer: ReturnType<typeof createAnswerItem>,
  stored: AnswerMessage,
  open: (signal: AbortSignal) => Promise<ResumableChat>,
  model?: string,
) {
  const { view } = answer
  const reading: NonNullable<typeof current> = { controller: new AbortController() }
  const owner = chat
  current = reading
  setBusy(true)
  const facts: AnswerFacts = {}
  try {
    reading.generation = await open(reading.controller.signal)
    stored.streamId = reading.generation.id
    saveChat(owner)
    for await (const event of reading.generation) {
      if (event.event === 'delta') view.appendText(event.data.text)
      else if (event.event === 'reasoning') view.appendReasoning(event.data.text)
      else if (event.event === 'start') facts.model = event.data.upstream
      else if (event.event === 'usage') facts.tokens = event.data.completion_tokens
      else if (event.event === 'done') {
        if (stored.sentAt) facts.ms = Date.now() - stored.sentAt
        stored.facts = facts
        view.setState('finished', event.data.finish_reason === 'length' ? 'Cut at the length limit.' : '')
      }
    }
  } catch (error) {
    if (reading.stopped) view.setState('stopped')
    if (reading.controller.signal.aborted) return
    const [state, detail, retry] = howItEnded(error, model)
    if (!retry) stored.retry = false
    view.setState(state, detail)
    if (error instanceof ChatStreamError && error.status === 401) {
      // Asks for a key, then sends the message again with it, if nothing else was asked meanwhile.
      const retry = () => {
        const index = indexOf(answer.item)
        if (!current && owner === chat && index === chat.messages.length - 1) ask(index - 1)
      }
      settings.open(
        apiKey.get()
          ? `The gateway did not accept the API key for “${model}”. Enter another one.`
          : `“${model}” needs an API key. Enter one to use it.`,
        retry,
      )
    }
  } finally {
    if (current === reading) {
      current = undefined
      setBusy(false)
    }
    if (!reading.controller.signal.aborted || reading.stopped) {
      Object.assign(stored, { content: view.text, state: view.state as AnswerState, detail: view.detail })
      if (view.reasoning) stored.reasoning = view.reasoning
      delete stored.streamId
      delete stored.sentAt
      saveChat(owner)
      showActions(answer, stored)
    }
  }
}

/** How an answer that threw ended, what to say about it, and whether asking again could help. */
function howItEnded(error: unknown, model: string | undefined): [AnswerState, string, boolean] {
  if (!(error instanceof ChatStreamError)) return ['failed', String(error), true]
  if (error.code === 'cancelled') return ['stopped', '', true]
  if (error.kind === 'truncated' || error.kind === 'network') return ['connection-lost', '', true]
  // Only a new request can be refused; a refusal while resuming (the stream expired) is a lost answer.
  if (error.kind === 'http' && model !== undefined) {
    const { text, retry } = describeRefusal(error, model)
    // A missing or wrong key is asked for in the settings dialog, which sends the message again.
    return ['refused', text, retry || error.status === 401]
  }
  return [error.kind === 'http' ? 'connection-lost' : 'failed', error.message, true]
}

function setBusy(busy: boolean) {
  const stopHadFocus = document.activeElement === stopButton
  sendButton.hidden = busy
  stopButton.hidden = !busy
  document.body.toggleAttribute('data-busy', busy)
  // Editing and regenerating wait for the answer to end; the buttons stay in place (hiding them
  // would leave an empty row under every question), only unusable for the moment.
  for (const button of conversation.querySelectorAll<HTMLButtonElement>('.edit, .regenerate')) button.disabled = busy
  // The button pressed has gone; the keyboard user lands back in the composer, not at the top.
  if (busy && document.activeElement === document.body) prompt.focus()
  if (!busy && (stopHadFocus || document.activeElement === document.body)) prompt.focus()
}

function send(text: string) {
  if (current) return
  showNotice()
  const content = messageContent(text, attachment.take())
  chat.messages.push({ role: 'user', content })
  if (chat.messages.length === 1) showTitle((chat.title = titleFrom(content)))
  conversation.append(questionItem(content))
  ask(chat.messages.length - 1)
}

/** Says, while it is typed, that a message is longer than the gateway takes; true when it is. */
function warnIfTooLong(): boolean {
  const length = prompt.value.trim().length
  const tooLong = length > picker.maxMessageChars
  composerWarning.textContent = tooLong ? `${tooLongText(length, picker.maxMessageChars)} Shorten it to send it.` : ''
  composerWarning.hidden = !tooLong
  if (tooLong) prompt.setAttribute('aria-invalid', 'true')
  else prompt.removeAttribute('aria-invalid')
  return tooLong
}
prompt.addEventListener('input', warnIfTooLong)

form.addEventListener('submit', (event) => {
  event.preventDefault()
  const text = prompt.value.trim()
  if (!text || current) return
  if (warnIfTooLong()) return announce(composerWarning.textContent!)
  if (attachment.reading) return showNotice('Still reading the image…')
  prompt.value = ''
  warnIfTooLong()
  prompt.focus()
  send(text)
})

prompt.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault()
    form.requestSubmit()
  }
})

function stop() {
  if (!current) return
  if (!current.generation) {
    // Not accepted yet (the upstream has not answered): dropping the request cancels it; the
    // gateway passes the abort on to the upstream.
    current.stopped = true
    return current.controller.abort()
  }
  // The answer belongs to the gateway, not to this page's connection: stopping it is a request.
  current.generation.stop().catch((error) => showNotice(`Could not stop the answer: ${String(error)}`))
}
stopButton.addEventListener('click', stop)
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && current && !document.querySelector('dialog[open]')) stop()
})

for (const example of emptyState.querySelectorAll('button')) {
  example.addEventListener('click', () => {
    prompt.focus() // the examples go away with the empty state; the keyboard user lands in the composer
    send(example.textContent!.trim())
  })
}
element('new-chat').addEventListener('click', () => {
  openChat(newChat(picker.value))
  chatList.closeSidebar()
  prompt.focus()
})
element('open-settings').addEventListener('click', () => settings.open())

openChat(loadChat(openChatId.get() ?? '') ?? newChat(''))
void picker.load().then(async (problem) => {
  if (problem && apiKey.get()) {
    // A key accepted once and revoked since: show what anyone may use, and say why.
    await picker.load('')
    problem = 'The gateway no longer accepts the saved API key. Enter another one under “API key”.'
  }
  showNotice(problem)
  if (!chat.model) chat.model = picker.value
})
