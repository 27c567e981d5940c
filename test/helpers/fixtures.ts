/** The recorded upstream streams (copied from ../shared/fixtures/upstream), by file name. */
const openAI = import.meta.glob<string>('../fixtures/upstream/openai-chat/*.sse', {
  query: '?raw',
  import: 'default',
  eager: true,
})

export const openAIRecordings: Record<string, string> = Object.fromEntries(
  Object.entries(openAI).map(([path, text]) => [path.split('/').at(-1)!, text]),
)
