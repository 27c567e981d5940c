/**
 * A function inside an OpenAI `namespace` tool (Codex's sub-agent tools), named as upstreams that
 * know only flat function tools see it: `<namespace>__<name>`. One rule for both directions: the
 * Responses translation flattens a caller's namespaces with it (`dialects/responses/`), and the
 * Responses decoder names a provider's namespaced call with it (`providers/openai/`), so the
 * encoder maps either back into the caller's namespace the same way.
 */
export interface NamespacedName {
  namespace: string
  name: string
}

const SEPARATOR = '__'

/** The flat name a function inside a namespace has upstream. */
export const flatToolName = ({ namespace, name }: NamespacedName) => `${namespace}${SEPARATOR}${name}`
