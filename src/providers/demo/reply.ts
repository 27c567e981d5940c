import { textOf, type ChatMessage } from '../../request/chat-request'
import { exampleAnswer } from './example-answers'

const MAX_QUOTE_CHARS = 160
/** Longer messages are cut in the `curl` example: a demo answer should not take minutes to stream. */
const MAX_CURL_CHARS = 1000
/** Where `npm run dev` serves the gateway: the address the answer's `curl` example uses. */
const LOCAL_GATEWAY = 'http://localhost:8787'

/**
 * The demo model's answer: deterministic, so tests can predict it, and about the conversation, so
 * a person trying the chat page sees their own words come back. It is Markdown on purpose: a
 * heading, a list, a table and a code block, so the page shows everything it can render before
 * any real model is configured. The table gives the request's model and token counts, and the
 * code block the `curl` that asks the same question. The chat page's example prompts get answers
 * shaped like what they ask for instead (example-answers.ts).
 */
export function demoReply(messages: ChatMessage[], model = 'demo'): string {
  const userMessages = messages.filter((message) => message.role === 'user')
  const lastMessage = userMessages.at(-1)
  const asked = textOf(lastMessage?.content)
  const last = asked.replace(/\s+/g, ' ').trim()
  const example = exampleAnswer(last)
  if (example) return example
  const quote = last.length > MAX_QUOTE_CHARS ? `${last.slice(0, MAX_QUOTE_CHARS)}…` : last
  const opening = quote ? `You said: “${quote}”.` : 'You said nothing at all, which is fine.'
  const images = Array.isArray(lastMessage?.content)
    ? lastMessage.content.filter((part) => part.type === 'image_url').length
    : 0
  const seen = images ? ` You attached ${images} image${images === 1 ? '' : 's'}, which I can count but not see.` : ''
  const promptTokens = messages.reduce((sum, message) => sum + demoTokens(textOf(message.content)).length, 0)
  const body = (completionTokens: number | string) =>
    [
      `${opening}${seen}`,
      '## How this answer travelled',
      `I am the gateway's built-in demo model, so I will not pretend to think about it, but I can show ` +
        `how an answer travels:`,
      [
        '- every word you see arrived as its own **Server-Sent Event**, as a real model’s tokens do;',
        '- the page renders the Markdown while it streams: this list, the table and the code block below;',
        `- this is turn ${userMessages.length} of our conversation.`,
      ].join('\n'),
      [
        '| Request | Value |',
        '| --- | --- |',
        `| Model | \`${model}\` |`,
        `| Messages | ${messages.length} |`,
        `| Prompt tokens | ${promptTokens} |`,
        `| Completion tokens | ${completionTokens} |`,
      ].join('\n'),
      asked.length > MAX_CURL_CHARS
        ? `Ask the first ${MAX_CURL_CHARS} characters of it from a terminal:`
        : 'Ask the same from a terminal:',
      fenced('sh', curlFor(model, asked.slice(0, MAX_CURL_CHARS))),
      'Point a model in `wrangler.toml` at a real upstream to get real answers.',
    ].join('\n\n')
  // The count is one token whatever its digits, so the answer with it has the length it states.
  return body(demoTokens(body(0)).length)
}

/** A code block whose fence is longer than any run of backticks inside it, so nothing ends it early. */
function fenced(language: string, code: string): string {
  const longestRun = Math.max(0, ...(code.match(/`+/g) ?? []).map((run) => run.length))
  const fence = '`'.repeat(Math.max(3, longestRun + 1))
  return `${fence}${language}\n${code}\n${fence}`
}

/** The `curl` that sends `text` to `model`, quoted for a POSIX shell. */
function curlFor(model: string, text: string): string {
  const json = JSON.stringify({ model, messages: [{ role: 'user', content: text }] })
  return [
    `curl -N ${LOCAL_GATEWAY}/api/chat \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d '${json.replaceAll("'", `'\\''`)}'`,
  ].join('\n')
}

/** Splits text into word-sized tokens that keep their leading white space, so they rejoin exactly. */
export function demoTokens(text: string): string[] {
  return text.match(/\s*\S+/g) ?? []
}
