import { readFileSync } from 'node:fs'
import type { ServerResponse } from 'node:http'

/**
 * The test upstream's Anthropic side: what it answers on `POST /v1/messages` (and
 * `/v1/messages/count_tokens`), in Anthropic's own wire format. The last user turn picks how
 * ("replay:<recording>" replays a recorded Anthropic stream from `test/fixtures/upstream/
 * anthropic-messages/`, "thinking" streams signed thinking then text, "overloaded" fails
 * mid-stream with `overloaded_error`, "cached" reports writing the prompt cache on a first turn
 * and reading it on any later one, "truncate" ends before `message_stop`, "status:<code>" refuses
 * in Anthropic's error shape; "run-command:<cmd>" anywhere in it calls Codex's `exec_command`,
 * "call-tool:<name> <json>" the tool of that name with that input,
 * "read-file:<path>" Claude Code's `Read`, "cut" after 40 % of an answer it continues from a prefill); a turn of tool results is answered with them;
 * anything else is echoed.
 */

const FIXTURES = new URL('../fixtures/upstream/anthropic-messages/', import.meta.url)

type Block = { type: string; text?: string; content?: string | Array<{ type: string; text?: string }> }
export interface AnthropicRequestBody {
  messages: Array<{ role: string; content: string | Block[] }>
  [key: string]: unknown
}

const event = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`
const messageStart = (inputTokens: number, cache: object = {}) =>
  event('message_start', {
    message: {
      id: 'msg_upstream',
      type: 'message',
      role: 'assistant',
      model: 'claude-upstream',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: inputTokens, output_tokens: 1, ...cache },
    },
  })
const textBlock = (index: number, pieces: string[]) => [
  event('content_block_start', { index, content_block: { type: 'text', text: '' } }),
  ...pieces.map((text) => event('content_block_delta', { index, delta: { type: 'text_delta', text } })),
  event('content_block_stop', { index }),
]
const end = (stop_reason: string, output_tokens: number) => [
  event('message_delta', { delta: { stop_reason, stop_sequence: null }, usage: { output_tokens } }),
  event('message_stop', {}),
]

/** The answer of a "cut:<how>" request (both APIs): it dies after `CUT_AT` characters, just after a space. */
export const CUT_ANSWER =
  'Alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo.'
export const CUT_AT = CUT_ANSWER.indexOf(' ', Math.floor(CUT_ANSWER.length * 0.4)) + 1

export const THINKING_SIGNATURE = 'c2lnbmVkLXRoaW5raW5nLWZvci10aGUtdGVzdA=='

/** The events of one answer, by scenario. */
function answerFor(body: AnthropicRequestBody): string[] {
  const prefill = body.messages.at(-1)
  const asked = body.messages.findLast((m) => m.role === 'user')?.content ?? ''
  const cut = (typeof asked === 'string' ? asked : textOf(asked)).startsWith('cut:')
  if (cut && prefill?.role === 'assistant') {
    // A prefill to continue ("cut:"): the rest of the answer from where it stops.
    const partial = typeof prefill.content === 'string' ? prefill.content : textOf(prefill.content)
    const rest = CUT_ANSWER.startsWith(partial) ? CUT_ANSWER.slice(partial.length) : `[not a prefill of the answer]`
    return [messageStart(30), ...textBlock(0, [rest.slice(0, 7), rest.slice(7)]), ...end('end_turn', 12)]
  }
  const last = body.messages.findLast((m) => m.role === 'user')
  const blocks = typeof last?.content === 'string' ? [{ type: 'text', text: last.content }] : (last?.content ?? [])
  const results = blocks.filter((b) => b.type === 'tool_result')
  if (results.length) {
    const said = results.map((r) => (typeof r.content === 'string' ? r.content : textOf(r.content ?? []))).join('; ')
    return [messageStart(40), ...textBlock(0, ['Results: ', said]), ...end('end_turn', 6)]
  }
  const scenario = textOf(blocks)
  // An agent's prompt comes wrapped in its own reminders: look for the scenario anywhere in it.
  const command = /run-command:([^\n]+)/.exec(scenario)
  const readFile = /read-file:(\S+)/.exec(scenario)
  const tool = /call-tool:(\S+) (\{[^\n]*\})/.exec(scenario)
  if (command || readFile || tool) {
    const name = command ? 'exec_command' : tool ? tool[1]! : 'Read'
    const input = command ? { cmd: command[1] } : tool ? (JSON.parse(tool[2]!) as object) : { file_path: readFile![1] }
    const call = { type: 'tool_use', id: 'toolu_agent', name, input: {} }
    return [
      messageStart(30),
      event('content_block_start', { index: 0, content_block: call }),
      event('content_block_delta', {
        index: 0,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify(input) },
      }),
      event('content_block_stop', { index: 0 }),
      ...end('tool_use', 9),
    ]
  }
  const [name, argument] = scenario.split(':', 2) as [string, string | undefined]
  switch (name) {
    case 'cached': {
      // Anthropic's usage with the prompt cache: input_tokens is only the uncached rest.
      const later = body.messages.some((m) => m.role === 'assistant')
      const cache = later
        ? { cache_read_input_tokens: 1000, cache_creation_input_tokens: 0 }
        : { cache_read_input_tokens: 0, cache_creation_input_tokens: 1000 }
      return [messageStart(20, cache), ...textBlock(0, [later ? 'From the cache.' : 'Cached.']), ...end('end_turn', 4)]
    }
    case 'truncate':
      return [messageStart(5), ...textBlock(0, ['Cut short'])]
    case 'replay':
      return readFileSync(new URL(argument!, FIXTURES), 'utf8').split(/(?<=\n\n)/)
    case 'thinking':
      return [
        messageStart(12),
        event('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }),
        event('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'Six times seven' } }),
        event('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: ' is 42.' } }),
        event('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: THINKING_SIGNATURE } }),
        event('content_block_stop', { index: 0 }),
        ...textBlock(1, ['4', '2']),
        ...end('end_turn', 20),
      ]
    case 'cut':
      // The first 40 % of the answer, then Anthropic's mid-stream `overloaded_error`.
      return [
        messageStart(8),
        event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
        event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: CUT_ANSWER.slice(0, CUT_AT) } }),
        event('error', { error: { type: 'overloaded_error', message: 'Overloaded' } }),
      ]
    case 'overloaded':
      return [
        messageStart(8),
        event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
        event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Half an' } }),
        event('error', { error: { type: 'overloaded_error', message: 'Overloaded' } }),
      ]
    default:
      return [messageStart(5), ...textBlock(0, ['echo: ', scenario]), ...end('end_turn', 3)]
  }
}

function lastText(body: AnthropicRequestBody): string {
  const last = body.messages.findLast((m) => m.role === 'user')
  return typeof last?.content === 'string' ? last.content : textOf(last?.content ?? [])
}

function textOf(blocks: Array<{ type: string; text?: string }>): string {
  return blocks.map((b) => (b.type === 'text' ? (b.text ?? '') : '')).join('')
}

/** Answers one Anthropic request, an event at a time. */
export async function answerAnthropic(path: string, body: AnthropicRequestBody, res: ServerResponse): Promise<void> {
  if (path.endsWith('/count_tokens')) {
    res.writeHead(200, { 'Content-Type': 'application/json' })
    return void res.end(JSON.stringify({ input_tokens: 42 }))
  }
  const status = /^status:(\d+)$/.exec(lastText(body))
  if (status) {
    res.writeHead(Number(status[1]), { 'Content-Type': 'application/json', 'request-id': 'req_upstream' })
    const error = { type: 'invalid_request_error', message: 'context_management.edits.0.type: Input tag is invalid' }
    return void res.end(JSON.stringify({ type: 'error', error }))
  }
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' })
  for (const piece of answerFor(body)) {
    res.write(piece)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  res.end()
}
