/** The recorded upstream streams (copied from ../shared/fixtures/upstream), by file name. */
const openAI = import.meta.glob<string>('../fixtures/upstream/openai-chat/*.sse', {
  query: '?raw',
  import: 'default',
  eager: true,
})

const openAIResponses = import.meta.glob<string>('../fixtures/upstream/openai-responses/*.sse', {
  query: '?raw',
  import: 'default',
  eager: true,
})

const anthropic = import.meta.glob<string>('../fixtures/upstream/anthropic-messages/*.sse', {
  query: '?raw',
  import: 'default',
  eager: true,
})

const byFileName = (files: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(files).map(([path, text]) => [path.split('/').at(-1)!, text]))

export const openAIRecordings = byFileName(openAI)
export const anthropicRecordings = byFileName(anthropic)
export const openAIResponsesRecordings = byFileName(openAIResponses)
