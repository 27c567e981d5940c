/**
 * The tool fields of an OpenAI-shaped body that have no tool to act on: an empty `tools`, and a
 * `tool_choice` or `parallel_tool_calls` without tools. The `openai` SDKs and agents send them so,
 * and OpenAI-compatible servers refuse them; the answer is the same without them. One rule for
 * the adapter that leaves them out of a passed-through body (`providers/openai/pass-through.ts`)
 * and the route that names them in `X-Gateway-Ignored`, so nothing vanishes unnamed.
 */
export function idleToolFields(body: Readonly<Record<string, unknown>>): string[] {
  if (Array.isArray(body.tools) ? body.tools.length > 0 : body.tools != null) return []
  return ['tools', 'tool_choice', 'parallel_tool_calls'].filter((field) => body[field] !== undefined)
}
