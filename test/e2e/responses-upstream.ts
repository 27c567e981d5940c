import type { IncomingMessage, ServerResponse } from 'node:http'

/**
 * The test upstream's OpenAI Responses side: what it answers on `POST /v1/responses` (and
 * `/v1/responses/input_tokens`, `/v1/responses/compact`), in OpenAI's own wire format. The last
 * user message's text picks how ("truncate": text, then the end of the body without a terminal
 * event; "failed": `response.failed`; "status:<code>": that status with an OpenAI error body;
 * "run-command:<cmd>" anywhere in it: a call of Codex's `exec_command`); input that ends in
 * `function_call_output`s is answered "tool said: <outputs>"; anything else is echoed. Usage
 * always reports cached input tokens, as OpenAI does once a prompt's prefix is cached.
 */

export interface ResponsesRequestBody {
  input?: string | Array<Record<string, unknown>>
  [key: string]: unknown
}

export const RESPONSES_USAGE = {
  input_tokens: 50,
  input_tokens_details: { cached_tokens: 32 },
  output_tokens: 4,
  output_tokens_details: { reasoning_tokens: 1 },
  total_tokens: 54,
}

let sequence = 0
const event = (type: string, data: object) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`
const response = (status: string, fields: object = {}) => ({
  id: 'resp_upstream',
  object: 'response',
  model: 'test-model',
  status,
  output: [],
  ...fields,
})
const created = () => [
  event('response.created', { response: response('in_progress') }),
  event('response.in_progress', { response: response('in_progress') }),
]
const completed = (output: object[]) =>
  event('response.completed', { response: response('completed', { output, usage: RESPONSES_USAGE }) })

/**
 * A message item as OpenAI streams one: added, its text part opened, the deltas, then each of
 * them done with the whole text. `end: false` stops after the deltas (a cut stream).
 */
function messageItem(deltas: string[], { index = 0, end = true } = {}): { events: string[]; item: object } {
  const id = `msg_up${index}`
  const text = deltas.join('')
  const part = (text: string) => ({ type: 'output_text', text, annotations: [], logprobs: [] })
  const item = (status: string, content: object[]) => ({ id, type: 'message', status, role: 'assistant', content })
  const at = { item_id: id, output_index: index, content_index: 0 }
  const events = [
    event('response.output_item.added', { output_index: index, item: item('in_progress', []) }),
    event('response.content_part.added', { ...at, part: part('') }),
    ...deltas.map((delta) => event('response.output_text.delta', { ...at, delta, logprobs: [] })),
  ]
  if (end)
    events.push(
      event('response.output_text.done', { ...at, text, logprobs: [] }),
      event('response.content_part.done', { ...at, part: part(text) }),
      event('response.output_item.done', { output_index: index, item: item('completed', [part(text)]) }),
    )
  return { events, item: item('completed', [part(text)]) }
}

/** A whole answer of text, as OpenAI streams it. */
function textAnswer(...deltas: string[]): string[] {
  const message = messageItem(deltas)
  return [...created(), ...message.events, completed([message.item])]
}
/** The text of the input's last user message. */
function lastUserText(input: ResponsesRequestBody['input']): string {
  if (typeof input === 'string') return input
  const last = input?.findLast((item) => item.role === 'user')
  const content = last?.content
  if (typeof content === 'string') return content
  return Array.isArray(content)
    ? content.map((part: { type?: string; text?: string }) => (part.type === 'input_text' ? part.text : '')).join('')
    : ''
}

/** The events of one answer, by scenario. */
function answerFor(body: ResponsesRequestBody): string[] | { status: number } {
  const input = Array.isArray(body.input) ? body.input : []
  const outputs: unknown[] = []
  for (let i = input.length - 1; i >= 0 && input[i]!.type === 'function_call_output'; i--)
    outputs.unshift(input[i]!.output)
  if (outputs.length) return textAnswer(`tool said: ${outputs.join(', ')}`)
  const scenario = lastUserText(body.input)
  const command = /run-command:([^\n]+)/.exec(scenario)
  if (command) {
    const args = JSON.stringify({ cmd: command[1] })
    const call = { type: 'function_call', id: 'fc_up', call_id: 'call_up', name: 'exec_command' }
    return [
      ...created(),
      event('response.output_item.added', { output_index: 0, item: { ...call, arguments: '', status: 'in_progress' } }),
      event('response.function_call_arguments.delta', { output_index: 0, item_id: 'fc_up', delta: args }),
      event('response.function_call_arguments.done', { output_index: 0, item_id: 'fc_up', arguments: args }),
      event('response.output_item.done', { output_index: 0, item: { ...call, arguments: args, status: 'completed' } }),
      completed([{ ...call, arguments: args, status: 'completed' }]),
    ]
  }
  const [name, argument] = scenario.split(':', 2) as [string, string | undefined]
  switch (name) {
    case 'truncate':
      return [...created(), ...messageItem(['Cut short'], { end: false }).events]
    case 'failed':
      return [
        ...created(),
        ...messageItem(['Half'], { end: false }).events,
        event('response.failed', {
          response: response('failed', { error: { code: 'server_error', message: 'boom' } }),
        }),
      ]
    case 'status':
      return { status: Number.parseInt(argument!, 10) }
    default:
      return textAnswer('echo: ', scenario)
  }
}

/** Answers one Responses request, an event at a time. */
export async function answerResponses(
  path: string,
  body: ResponsesRequestBody,
  res: ServerResponse,
  _req?: IncomingMessage,
): Promise<void> {
  const json = (status: number, payload: object) => {
    res.writeHead(status, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify(payload))
  }
  if (path.endsWith('/input_tokens')) return json(200, { object: 'response.input_tokens', input_tokens: 77 })
  if (path.endsWith('/compact')) {
    return json(200, {
      id: 'cmp_upstream',
      object: 'response.compaction',
      output: [{ type: 'compaction', id: 'cmp_item', encrypted_content: 'opaque-summary' }],
      usage: RESPONSES_USAGE,
    })
  }
  const answer = answerFor(body)
  if (!Array.isArray(answer)) {
    return json(answer.status, {
      error: {
        message: `upstream says ${answer.status}: max_output_tokens is too large`,
        type: 'invalid_request_error',
      },
    })
  }
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' })
  for (const piece of answer) {
    res.write(piece)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  res.end()
}
