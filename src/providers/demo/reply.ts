import { textOf, type ChatMessage } from '../../request/chat-request'

const MAX_QUOTE_CHARS = 160

/**
 * The demo model's answer: deterministic, so tests can predict it, and about the conversation,
 * so a person trying the chat page sees their own words come back.
 */
export function demoReply(messages: ChatMessage[]): string {
  const userMessages = messages.filter((message) => message.role === 'user')
  const lastMessage = userMessages.at(-1)
  const last = textOf(lastMessage?.content).replace(/\s+/g, ' ').trim()
  const quote = last.length > MAX_QUOTE_CHARS ? `${last.slice(0, MAX_QUOTE_CHARS)}…` : last
  const opening = quote ? `You said: “${quote}”.` : 'You said nothing at all, which is fine.'
  const images = Array.isArray(lastMessage?.content)
    ? lastMessage.content.filter((part) => part.type === 'image_url').length
    : 0
  const seen = images ? ` You attached ${images} image${images === 1 ? '' : 's'}, which I can count but not see.` : ''
  return (
    `${opening}${seen} I am the gateway's built-in demo model, so I will not pretend to think about it, ` +
    `but I can show how an answer travels: every word you see arrived as its own Server-Sent ` +
    `Event, exactly as a real model's tokens do. This is turn ${userMessages.length} of our ` +
    `conversation. Point a model in wrangler.toml at a real upstream to get real answers.`
  )
}

/** Splits text into word-sized tokens that keep their leading white space, so they rejoin exactly. */
export function demoTokens(text: string): string[] {
  return text.match(/\s*\S+/g) ?? []
}
