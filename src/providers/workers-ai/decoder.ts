import type { FinishReason, UsageEventData } from '../../events/chat-events'
import { fromChatCompletionUsage, type ChatCompletionUsage } from '../openai/decoder'
import { createSseDecoder, parseJson } from '../sse-decoder'
import { toolCallPieces } from '../tool-calls'
import type { UpstreamDecoder } from '../types'

/**
 * A tool call as Workers AI streams it: OpenAI's pieces (`index`, `id`, `function.arguments` as
 * text), or a whole call from the classic models (`name`, `arguments` as an object).
 */
interface WorkersAIToolCall {
  index?: number
  id?: string
  name?: string
  arguments?: unknown
  function?: { name?: string; arguments?: unknown }
}

/** Workers AI streams one of two shapes, depending on the model, and ends with `data: [DONE]`. */
interface WorkersAIChunk {
  /** The classic shape: `{"response": "text"}`, with `tool_calls` beside it. */
  response?: string | null
  tool_calls?: WorkersAIToolCall[] | null
  /** The OpenAI-style shape of newer models. */
  choices?: Array<{
    delta?: { content?: string | null; reasoning_content?: string | null; tool_calls?: WorkersAIToolCall[] | null }
    finish_reason?: string | null
  }>
  usage?: ChatCompletionUsage | null
}

const FINISH_REASONS: Record<string, FinishReason> = { stop: 'stop', length: 'length', tool_calls: 'tool_calls' }

/**
 * Decodes a Workers AI text-generation stream in either of its shapes: text, reasoning
 * (`reasoning_content`), tool calls. `[DONE]` is the only proof of a complete answer; usage (sent
 * on a late chunk, sometimes more than once) is passed on once.
 */
export function createWorkersAIDecoder(): UpstreamDecoder {
  let finishReason: FinishReason = 'unknown'
  let usage: UsageEventData | undefined
  const toolCalls = toolCallPieces()
  let wholeCalls = 0
  return createSseDecoder({
    onMessage(message, emit) {
      if (message.data === '[DONE]') {
        if (usage) emit({ type: 'usage', usage })
        return emit({ type: 'done', finishReason: toolCalls.finishReason(finishReason) })
      }
      const chunk = parseJson<WorkersAIChunk>(message.data, emit)
      if (!chunk) return
      const choice = chunk.choices?.[0]
      const reasoning = choice?.delta?.reasoning_content
      if (reasoning) emit({ type: 'reasoning', text: reasoning })
      const text = chunk.response ?? choice?.delta?.content
      if (text) emit({ type: 'text', text })
      for (const call of chunk.tool_calls ?? choice?.delta?.tool_calls ?? []) {
        const args = call.function?.arguments ?? call.arguments
        // Without an index, a call is whole, and numbered after the ones before it.
        const index = call.index ?? wholeCalls++
        if (args || !toolCalls.started(index)) {
          emit(toolCalls.piece(index, call.id, call.function?.name ?? call.name, argumentsText(args)))
        }
      }
      if (choice?.finish_reason) finishReason = FINISH_REASONS[choice.finish_reason] ?? 'unknown'
      if (chunk.usage) usage = fromChatCompletionUsage(chunk.usage)
    },
  })
}

function argumentsText(args: unknown): string {
  if (args === undefined || args === null) return ''
  return typeof args === 'string' ? args : JSON.stringify(args)
}
