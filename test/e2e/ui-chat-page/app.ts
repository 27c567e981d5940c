import { useChat } from '@ai-sdk/react'
import { DefaultChatTransport, type UIMessage } from 'ai'
import { createElement as h, useEffect, useState } from 'react'
import { createRoot } from 'react-dom/client'

/**
 * A minimal `useChat` app against the gateway, as a frontend with no server of its own would
 * write it (bundled by the browser test only; never shipped). `?gateway=` is the Worker's
 * origin, `?chat=` the chat id; messages are kept in sessionStorage, as an app keeps its history.
 */
const params = new URLSearchParams(location.search)
const api = `${params.get('gateway')}/api/ui/chat`
const chatId = params.get('chat')!
const storageKey = `messages:${chatId}`
// Another origin of the same site (127.0.0.1, another port): `credentials: 'include'` sends the
// gateway's chat-owner cookie, without which a reload could not resume this browser's chat.
const transport = new DefaultChatTransport<UIMessage>({ api, credentials: 'include' })

const textOf = (message: UIMessage) => message.parts.map((part) => (part.type === 'text' ? part.text : '')).join('')
const stateOf = (message: UIMessage) => message.parts.findLast((part) => part.type === 'text')?.state ?? 'none'

function App() {
  const [input, setInput] = useState('')
  const { messages, sendMessage, status, error, stop } = useChat({
    id: chatId,
    messages: JSON.parse(sessionStorage.getItem(storageKey) ?? '[]') as UIMessage[],
    resume: true,
    transport,
  })
  useEffect(() => sessionStorage.setItem(storageKey, JSON.stringify(messages)), [messages])

  // stop() only hangs up (the answer outlives the connection); the gateway's endpoint stops it.
  const stopAnswer = () => {
    void fetch(`${api}/${encodeURIComponent(chatId)}/stream`, { method: 'DELETE', credentials: 'include' })
    void stop()
  }

  return h(
    'main',
    null,
    h(
      'ol',
      { id: 'messages' },
      messages.map((message) =>
        h(
          'li',
          { key: message.id, className: `message ${message.role}`, 'data-state': stateOf(message) },
          textOf(message),
        ),
      ),
    ),
    h('p', { id: 'status' }, status),
    error && h('p', { id: 'error' }, error.message),
    h(
      'form',
      {
        onSubmit: (event: { preventDefault(): void }) => {
          event.preventDefault()
          void sendMessage({ text: input })
          setInput('')
        },
      },
      h('input', { id: 'prompt', value: input, onChange: (event) => setInput(event.currentTarget.value) }),
      h('button', { id: 'send', type: 'submit' }, 'Send'),
      h('button', { id: 'stop', type: 'button', onClick: stopAnswer }, 'Stop'),
    ),
  )
}

createRoot(document.getElementById('root')!).render(h(App))
