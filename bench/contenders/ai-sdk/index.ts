import { createOpenAICompatible } from '@ai-sdk/openai-compatible'
import { streamText, type ModelMessage } from 'ai'

/** The Vercel AI SDK: its OpenAI-compatible provider streamed to a UI message stream response. */
export default {
  async fetch(request: Request, env: { UPSTREAM_URL: string }): Promise<Response> {
    const { messages } = (await request.json()) as { messages: ModelMessage[] }
    const provider = createOpenAICompatible({ name: 'bench', baseURL: env.UPSTREAM_URL, includeUsage: true })
    const result = streamText({ model: provider('bench'), messages })
    return result.toUIMessageStreamResponse()
  },
}
