import { GatewayError } from '../errors'

export interface CallerPathOptions {
  /** Rebuild the error even when every path is the caller's already (a validation's refusal, always). */
  always?: boolean
  /** Start the message with the first issue's path, as Anthropic's refusals do. */
  nameFirst?: boolean
}

/**
 * A refusal of a translated request, its issues moved to the paths the caller sent: the one rule
 * every dialect uses to report the gateway's own schema (and an adapter's refusal: an image to a
 * model without vision) in the caller's terms. `toCaller` maps a path of the gateway's request
 * (`messages.3.content.1`) to the caller's (`input.2.content.1`, `stop_sequences`); each dialect's
 * translation knows its own map. Anything that is not a refusal with issues is returned as it is.
 */
export function atCallerPaths(
  error: unknown,
  toCaller: (path: string) => string,
  { always = false, nameFirst = false }: CallerPathOptions = {},
): unknown {
  const issues = error instanceof GatewayError ? error.options.issues : undefined
  if (!issues?.length) return error
  const mapped = issues.map((issue) => ({ ...issue, path: toCaller(issue.path) }))
  if (!always && mapped.every((issue, i) => issue.path === issues[i]!.path)) return error
  const { status, code, message, options } = error as GatewayError
  const [first] = mapped
  const said = nameFirst ? `${first!.path}: ${first!.message}` : message
  return new GatewayError(status, code, said, { ...options, issues: mapped })
}
