/**
 * The three dialects the gateway speaks besides its own: Anthropic Messages, OpenAI Chat
 * Completions and Responses. A caller's request comes in one (`request/native-request.ts`), a
 * provider may answer in it (`providers/types.ts`), and a format may write it
 * (`formats/types.ts`): when the last two agree, the provider's bytes are the client's answer.
 */
export type Dialect = 'messages' | 'chat' | 'responses'
