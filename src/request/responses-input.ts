import { textOf, type ChatMessage, type ContentPart } from './chat-request'

/**
 * The gateway's messages as OpenAI Responses input items: what the `openai` adapter sends a
 * Responses upstream for a translated request, and what the `/v1/responses` route puts in place
 * of a `previous_response_id` or an `item_reference` when it passes a caller's body through (the
 * gateway stores responses itself, so the upstream never holds the conversation).
 *
 * An assistant turn is its text as a message, then its calls as `function_call` items; a tool's
 * result is a `function_call_output`. Anthropic's thinking blocks go to no OpenAI model.
 */
export function responsesInputOf(messages: readonly ChatMessage[]): Array<Record<string, unknown>> {
  const items: Array<Record<string, unknown>> = []
  for (const message of messages) {
    switch (message.role) {
      case 'system':
        items.push({ type: 'message', role: 'system', content: textOf(message.content) })
        break
      case 'user':
        items.push({
          type: 'message',
          role: 'user',
          content: typeof message.content === 'string' ? message.content : message.content.map(inputPartOf),
        })
        break
      case 'assistant': {
        const text = textOf(message.content)
        if (text) items.push({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] })
        for (const call of message.tool_calls ?? []) {
          items.push({
            type: 'function_call',
            call_id: call.id,
            name: call.function.name,
            arguments: call.function.arguments,
          })
        }
        break
      }
      case 'tool':
        // Images in a tool's result were refused before (`refuseToolResultImages`): text only here.
        items.push({ type: 'function_call_output', call_id: message.tool_call_id, output: textOf(message.content) })
        break
    }
  }
  return items
}

function inputPartOf(part: ContentPart): Record<string, unknown> {
  if (part.type === 'text') return { type: 'input_text', text: part.text }
  return { type: 'input_image', image_url: part.image_url.url, detail: part.image_url.detail ?? 'auto' }
}
