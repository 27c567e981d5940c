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
const created = () => event('response.created', { response: response('in_progress') })
const text = (delta: string, output_index = 0) =>
  event('response.output_text.delta', { item_id: 'msg_up', output_index, content_index: 0, delta })
const completed = () => event('response.completed', { response: response('completed', { usage: RESPONSES_USAGE }) })

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
  if (outputs.length) return [created(), text(`tool said: ${outputs.join(', ')}`), completed()]
  const scenario = lastUserText(body.input)
  const command = /run-command:([^\n]+)/.exec(scenario)
  if (command) {
    const call = { type: 'function_call', id: 'fc_up', call_id: 'call_up', name: 'exec_command', arguments: '' }
    return [
      created(),
      event('response.output_item.added', { output_index: 0, item: call }),
      event('response.function_call_arguments.delta', {
        output_index: 0,
        item_id: 'fc_up',
        delta: JSON.stringify({ cmd: command[1] }),
      }),
      completed(),
    ]
  }
  const [name, argument] = scenario.split(':', 2) as [string, string | undefined]
  switch (name) {
    case 'truncate':
      return [created(), text('Cut short')]
    case 'failed':
      return [
        created(),
        text('Half'),
        event('response.failed', {
          response: response('failed', { error: { code: 'server_error', message: 'boom' } }),
        }),
      ]
    case 'status':
      return { status: Number.parseInt(argument!, 10) }
    default:
      return [created(), text('echo: '), text(scenario), completed()]
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
