import type { ReplayEncoder } from '../events/encoders'
import { anthropicMessagesFormat } from '../dialects/messages/format'
import { gatewayFormat } from './gateway'
import { openAIChatFormat } from '../dialects/chat/format'
import { openAIResponsesFormat } from '../dialects/responses/format'
import type { CommonOptions, WireFormat } from './types'
import { uiMessageStreamFormat } from './ui-message-stream'

/**
 * Every wire format the gateway speaks, by name. A surface streams live through its format
 * directly; a stored answer is replayed by name, since a route asks the answer's Durable Object
 * for its events in a format (over RPC, which carries names and plain options, not code). Adding
 * a format is a module beside these and a line here; the object itself never learns of it.
 */
export const formats = {
  gateway: gatewayFormat,
  'openai-chat': openAIChatFormat,
  'openai-responses': openAIResponsesFormat,
  'ui-message-stream': uiMessageStreamFormat,
  'anthropic-messages': anthropicMessagesFormat,
} satisfies Record<string, WireFormat<never>>

export type FormatName = keyof typeof formats

/** What a reader of a stored answer asks for: a format and that format's options. */
export type FormatChoice = { [N in FormatName]: { name: N; options?: OptionsOf<N> } }[FormatName]

type OptionsOf<N extends FormatName> = (typeof formats)[N] extends WireFormat<infer O> ? O : never

/** The replay encoder for one reader. */
export function replayEncoder(choice: FormatChoice, common: CommonOptions): ReplayEncoder {
  const format = formats[choice.name] as WireFormat<object>
  return format.replay({ ...(choice.options ?? {}), ...common })
}
