import { createOpenAIDecoder } from '../../src/providers/openai/decoder'
import type { UpstreamDecoder, UpstreamStream } from '../../src/providers/types'

const utf8 = new TextEncoder()

/** An upstream body the test writes to by hand, recording how the pipeline treats it. */
export function manualUpstream(decoder: UpstreamDecoder = createOpenAIDecoder()) {
  let controller!: ReadableStreamDefaultController<Uint8Array>
  const state = { cancelled: false, pulls: 0 }
  const body = new ReadableStream<Uint8Array>(
    {
      start: (c) => void (controller = c),
      pull: () => void state.pulls++,
      cancel: () => void (state.cancelled = true),
    },
    { highWaterMark: 0 },
  )
  const upstream: UpstreamStream = { body, decoder }
  return {
    upstream,
    state,
    send: (text: string) => controller.enqueue(utf8.encode(text)),
    end: () => controller.close(),
    fail: (error: Error) => controller.error(error),
  }
}

/** OpenAI wire-format pieces, for building upstream bodies. */
export const openAI = {
  text: (content: string) =>
    `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`,
  finish: (reason = 'stop') =>
    `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: reason }] })}\n\n`,
  usage: (prompt: number, completion: number) =>
    `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } })}\n\n`,
  reasoning: (reasoning_content: string) =>
    `data: ${JSON.stringify({ choices: [{ index: 0, delta: { reasoning_content }, finish_reason: null }] })}\n\n`,
  toolCall: (index: number, args: string, id?: string, name?: string) =>
    `data: ${JSON.stringify({ choices: [{ index: 0, delta: { tool_calls: [{ index, id, type: id && 'function', function: { name, arguments: args } }] }, finish_reason: null }] })}\n\n`,
  done: 'data: [DONE]\n\n',
}
