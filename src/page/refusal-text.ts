/**
 * A refused request in words a person understands. The gateway's messages are written for
 * developers ("Field messages.2.content: Invalid length: Expected <=32768 but received 40000");
 * the page says what was wrong with what they did, and whether asking again could help.
 */
import type { ChatStreamError } from '../client'

export interface Refusal {
  /** What to show under the answer. */
  text: string
  /** Whether the same request could succeed later (a rate limit), so "Try again" is worth offering. */
  retry: boolean
}

const number = (value: number) => value.toLocaleString('en-US')

/** "This message is 40,000 characters; the limit is 32,768." — the composer says it before sending, too. */
export const tooLongText = (length: number, limit: number) =>
  `This message is ${number(length)} characters; the limit is ${number(limit)}.`

/** The numbers of valibot's length and size messages: "Expected <=32768 but received 40000". */
function limitOf(message: string): { limit: number; actual: number } | undefined {
  const match = message.match(/Expected <=?(\d+) but received (\d+)/)
  return match ? { limit: Number(match[1]), actual: Number(match[2]) } : undefined
}

/** One field at fault, as a sentence; undefined when nothing better than the gateway's words is known. */
function issueText(path: string, message: string): string | undefined {
  const numbers = limitOf(message)
  if (numbers && /^messages\.\d+\.content$/.test(path)) return tooLongText(numbers.actual, numbers.limit)
  if (numbers && path === 'messages') {
    return `This chat has ${number(numbers.actual)} messages; the gateway takes at most ${number(numbers.limit)}. Start a new chat to go on.`
  }
  return undefined
}

export function describeRefusal(error: ChatStreamError, model: string): Refusal {
  const retry = error.retryable
  switch (error.code) {
    case 'payload_too_large':
      return { text: 'This message is too large for the gateway. Send a shorter message or a smaller image.', retry }
    case 'model_not_allowed':
      return { text: `Your API key does not allow “${model}”. Choose another model.`, retry }
    case 'model_unavailable':
      return { text: `“${model}” is not set up on this gateway. Choose another model.`, retry }
    case 'budget_exhausted':
      return { text: 'Today’s token budget for this key is spent.', retry }
    case 'too_many_streams':
      return { text: 'Too many answers are streaming at once with this key. Wait for one to finish.', retry: true }
    case 'rate_limited':
    case 'upstream_rate_limited':
      return { text: 'Too many requests just now. Wait a moment, then try again.', retry: true }
  }
  const sentences = error.issues.map((issue) => issueText(issue.path, issue.message))
  if (sentences.length && sentences.every(Boolean)) return { text: sentences.join(' '), retry }
  const fields = error.issues.map((issue) => `${issue.path}: ${issue.message}.`)
  return { text: [error.message, ...fields].join(' '), retry }
}
