import type { CollectedAnswer } from '../../pipeline/collect-answer'
import { toAnthropicUsage, toStopReason } from './format'

/**
 * A collected answer as Anthropic's whole `message` (`stream` unset or false). The route
 * (`routes/anthropic/message.ts`) collects the answer, ends it and sends this.
 */
export function messageBody(answer: CollectedAnswer, model: string) {
  const stopReason = toStopReason(answer.finishReason, answer.stopSequence)
  return {
    id: `msg_${crypto.randomUUID().replaceAll('-', '')}`,
    type: 'message',
    role: 'assistant',
    model,
    content: contentOf(answer),
    stop_reason: stopReason,
    stop_sequence: stopReason === 'stop_sequence' ? answer.stopSequence : null,
    usage: answer.usage ? toAnthropicUsage(answer.usage) : { input_tokens: 0, output_tokens: 0 },
  }
}

/** The message's blocks, in the order Anthropic gives them: thinking, text, then tool calls. */
function contentOf(answer: CollectedAnswer) {
  const content: object[] = answer.thinking.map(({ text, signature, redacted }) =>
    redacted !== undefined
      ? { type: 'redacted_thinking', data: redacted }
      : { type: 'thinking', thinking: text, signature: signature ?? '' },
  )
  if (answer.text) content.push({ type: 'text', text: answer.text })
  for (const call of answer.toolCalls) {
    content.push({ type: 'tool_use', id: call.id, name: call.name, input: parseInput(call.arguments) })
  }
  return content
}

/** A tool call's input; `{}` for arguments cut short (the answer ran out of tokens mid-call). */
function parseInput(json: string): unknown {
  try {
    return JSON.parse(json || '{}')
  } catch {
    return {}
  }
}
