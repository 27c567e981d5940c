import type { DemoModelConfig } from '../../config/models'
import { unsupportedParameter } from '../../errors'
import { textOf } from '../../request/chat-request'
import { createOpenAIDecoder } from '../openai/decoder'
import type { ProviderAdapter } from '../types'
import { demoReply, demoTokens } from './reply'

const encoder = new TextEncoder()

/**
 * The built-in model: no key, no network. It answers in the OpenAI streaming wire format, as a
 * local OpenAI-compatible server would, so its answers go through the same decoding as a real
 * upstream's. Its config can make it fail mid-stream or fall silent, to show error handling and
 * heartbeats without a real provider misbehaving.
 */
export function demoAdapter(config: DemoModelConfig): ProviderAdapter {
  return {
    async open(request, { signal }) {
      // It answers in prose whatever it is asked. Tools are offered, never required, so an answer
      // in text is a true one (agents such as Claude Code always send theirs); a JSON format or a
      // required tool call is a promise the prose would break.
      if (
        request.tools?.length &&
        request.tool_choice !== undefined &&
        request.tool_choice !== 'none' &&
        request.tool_choice !== 'auto'
      ) {
        throw unsupportedParameter('tool_choice', 'the demo model answers in text and never calls a tool.')
      }
      if (request.response_format && request.response_format.type !== 'text') {
        throw unsupportedParameter('response_format', 'the demo model answers only in prose.')
      }
      const tokens = demoTokens(demoReply(request.messages, request.model))
      const limit = Math.min(tokens.length, request.max_tokens ?? Infinity)
      const promptTokens = request.messages.reduce((sum, m) => sum + demoTokens(textOf(m.content)).length, 0)
      const pause = cancellableSleep(signal)
      let sent = 0

      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (sent === config.fail_after_tokens) {
            controller.enqueue(
              chunk({ error: { message: 'The demo model was told to fail here.', type: 'server_error' } }),
            )
            controller.close()
            return
          }
          if (sent === config.silence_after_tokens) await pause(config.silence_ms)
          if (sent < limit) await pause(config.token_delay_ms)
          if (signal.aborted) {
            controller.error(signal.reason)
            return
          }
          if (sent < limit) {
            controller.enqueue(
              chunk({ choices: [{ index: 0, delta: { content: tokens[sent++] }, finish_reason: null }] }),
            )
            return
          }
          const finishReason = limit < tokens.length ? 'length' : 'stop'
          controller.enqueue(chunk({ choices: [{ index: 0, delta: {}, finish_reason: finishReason }] }))
          const usage = { prompt_tokens: promptTokens, completion_tokens: sent, total_tokens: promptTokens + sent }
          controller.enqueue(chunk({ choices: [], usage }))
          controller.enqueue(encoder.encode('data: [DONE]\n\n'))
          controller.close()
        },
        cancel: () => pause.cancel(),
      })
      return { body, decoder: createOpenAIDecoder() }
    },
  }
}

function chunk(payload: object): Uint8Array {
  return encoder.encode(`data: ${JSON.stringify({ object: 'chat.completion.chunk', model: 'demo', ...payload })}\n\n`)
}

/** `sleep(ms)` that ends early, and for good, once the stream is cancelled or the signal aborts. */
function cancellableSleep(signal: AbortSignal) {
  let timer: ReturnType<typeof setTimeout> | undefined
  let wake: (() => void) | undefined
  let cancelled = signal.aborted
  const cancel = () => {
    cancelled = true
    if (timer !== undefined) clearTimeout(timer)
    wake?.()
  }
  signal.addEventListener('abort', cancel, { once: true })
  const sleep = (ms: number) =>
    cancelled || ms <= 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          wake = resolve
          timer = setTimeout(resolve, ms)
        })
  return Object.assign(sleep, { cancel })
}
