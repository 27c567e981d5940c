import { invalidRequest, type ErrorIssue } from '../../errors'
import { MAX_TOOLS } from '../../request/chat-request'
import { isObject, overLength, typeName } from '../../request/json-shape'
import { flatToolName, TOOL_NAME } from './namespaces'

/** A namespace tool's fields the translation takes (its `description` is dropped, see below). */
const NAMESPACE_FIELDS = new Set(['type', 'name', 'description', 'tools'])

/**
 * A `namespace` tool's functions, each with its flat name (`<namespace>__<name>`, see
 * `./namespaces.ts`) and the caller's path for it. What cannot be carried is an
 * issue: a namespace without a name or tools, a custom tool inside one, a flat name no upstream
 * takes (over 64 characters, or characters outside `[a-zA-Z0-9_-]`). The namespace's own
 * description has no place in a flat tool and is dropped: each function keeps its own.
 */
export function namespaceFunctions(
  tool: Record<string, unknown>,
  path: string,
  unsupported: ErrorIssue[],
): Array<{ tool: Record<string, unknown>; name: string; path: string }> {
  const { name: namespace, tools } = tool
  for (const field of Object.keys(tool)) {
    if (!NAMESPACE_FIELDS.has(field)) unsupported.push({ path: `${path}.${field}`, message: 'is not carried.' })
  }
  if (typeof namespace !== 'string' || !Array.isArray(tools)) {
    unsupported.push({ path, message: 'a namespace tool needs a name and a list of tools.' })
    return []
  }
  // Before any is read: flattened, they count against the request's tools (the schema's limit).
  const tooMany = overLength(tools, MAX_TOOLS, `${path}.tools`)
  if (tooMany) throw invalidRequest('Responses', [tooMany])
  const functions: Array<{ tool: Record<string, unknown>; name: string; path: string }> = []
  for (const [j, inner] of tools.entries()) {
    const at = `${path}.tools.${j}`
    if (!isObject(inner) || inner.type !== 'function' || typeof inner.name !== 'string') {
      const type = isObject(inner) ? typeName(inner.type) : typeName(inner)
      unsupported.push({
        path: at,
        message: `${type} tools in a namespace are not carried; only named function tools are.`,
      })
      continue
    }
    const name = flatToolName({ namespace, name: inner.name })
    if (!TOOL_NAME.test(name)) {
      unsupported.push({
        path: `${at}.name`,
        message: `is sent upstream as the function '${name}', which is not a valid tool name there (at most 64 characters of a-z, A-Z, 0-9, _ and -).`,
      })
      continue
    }
    functions.push({ tool: inner, name, path: at })
  }
  return functions
}

/**
 * Two tools sent under one name: a namespaced function's flat name taken by another tool. The
 * upstream would refuse the request or call the wrong one, and a call could not be told back.
 */
export function refuseCollisions(tools: unknown[], paths: string[], unsupported: ErrorIssue[]): void {
  const seen = new Map<string, string>()
  for (const [i, tool] of tools.entries()) {
    const name = isObject(tool) && isObject(tool.function) ? tool.function.name : undefined
    if (typeof name !== 'string') continue
    const first = seen.get(name)
    if (first === undefined) seen.set(name, paths[i]!)
    else if (paths[i]!.includes('.tools.') || first.includes('.tools.')) {
      unsupported.push({
        path: `${paths[i]}.name`,
        message: `is sent upstream as the function '${name}', the name ${first} has too.`,
      })
    }
  }
}
