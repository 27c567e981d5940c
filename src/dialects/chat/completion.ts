import type { CollectedAnswer } from '../../pipeline/collect-answer'
import { toOpenAIFinishReason, toOpenAIUsage } from './format'

/**
 * A collected answer as OpenAI's whole `chat.completion`, created at `startedAt`. The route
 * (`routes/openai/completion.ts`) collects the answer, ends it and sends this.
 */
export function completionBody(answer: CollectedAnswer, model: string, startedAt: number) {
  return {
    id: `chat_${crypto.randomUUID()}`,
    object: 'chat.completion',
    created: Math.floor(startedAt / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          // OpenAI's shape: no text beside tool calls is `null`, not an empty string.
          content: answer.text || (answer.toolCalls.length ? null : ''),
          refusal: null,
          ...(answer.reasoning && { reasoning_content: answer.reasoning }),
          ...(answer.toolCalls.length && {
            tool_calls: answer.toolCalls.map(({ id, name, arguments: args }) => ({
              id,
              type: 'function',
              function: { name, arguments: args },
            })),
          }),
        },
        logprobs: null,
        finish_reason: toOpenAIFinishReason(answer.finishReason),
      },
    ],
    ...(answer.usage && { usage: toOpenAIUsage(answer.usage) }),
  }
}
