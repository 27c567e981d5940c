import { isObject } from '../../request/json-shape'
import { flatToolName, type NamespacedName } from '../../request/namespaced-tool'

/**
 * OpenAI's `namespace` tools (`{type: "namespace", name, tools: [function, …]}`; Codex sends its
 * sub-agent tools as one) for upstreams that know only flat function tools. Each function inside
 * becomes a function tool named `<namespace>__<name>`, and a call to that name is reported back as
 * OpenAI reports a call into a namespace: a `function_call` whose `name` is the inner function's
 * and whose `namespace` is the namespace's. The map is derived from the request's own tools, so
 * the request, its stream, its stored response and its replays all agree without keeping it.
 */

/** What a function tool's name may be on every upstream (OpenAI's and Anthropic's rule). */
export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/

export { flatToolName, type NamespacedName }

/** The caller's names of each namespaced function by its flat name, from a request's `tools` (any shape). */
export function namespacedNames(tools: unknown): Map<string, NamespacedName> {
  const names = new Map<string, NamespacedName>()
  if (!Array.isArray(tools)) return names
  for (const tool of tools) {
    if (!isObject(tool) || tool.type !== 'namespace' || typeof tool.name !== 'string') continue
    if (!Array.isArray(tool.tools)) continue
    for (const inner of tool.tools) {
      if (!isObject(inner) || inner.type !== 'function' || typeof inner.name !== 'string') continue
      const named = { namespace: tool.name, name: inner.name }
      names.set(flatToolName(named), named)
    }
  }
  return names
}

/**
 * A `function_call`'s name as upstream knows it: flat, when the item names a `namespace` (a
 * call the gateway reported into a namespace, now sent back in a later turn's input).
 */
export function upstreamCallName(item: { name?: unknown; namespace?: unknown }): unknown {
  if (typeof item.namespace !== 'string' || typeof item.name !== 'string') return item.name
  return flatToolName({ namespace: item.namespace, name: item.name })
}
