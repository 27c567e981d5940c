import { GatewayError, invalidRequest, unsupportedParameter, type ErrorIssue } from '../../errors'
import { MAX_PARTS, MAX_TOOLS, type ChatRequestLimits } from '../../request/chat-request'
import { isObject, overLength, typeName } from '../../request/json-shape'
import { sortFields, withoutIdleToolFields } from '../fields'
import { namespaceFunctions, refuseCollisions } from './namespace-tools'
import { upstreamCallName } from './namespaces'

/**
 * OpenAI's Responses request (`POST /v1/responses`) in the gateway's terms. Which fields are
 * carried, ignored (and named in `X-Gateway-Ignored`) or refused is `FIELD_RULES`, shared by
 * every translated surface; `store` and `background` are the route's. Hosted tools (`web_search`,
 * `file_search`, …) are refused: dropped, the model would answer as if it had searched.
 */

/** OpenAI's tools that run on its side, refused by name. */
const HOSTED_TOOLS = new Set([
  'web_search',
  'web_search_preview',
  'file_search',
  'code_interpreter',
  'image_generation',
  'computer_use_preview',
  'mcp',
])

/** `role`s of message items, in the gateway's terms. */
const ROLES: Record<string, string> = { user: 'user', assistant: 'assistant', system: 'system', developer: 'system' }

/** Where a message of the translated request came from, to report its issues at the caller's own path. */
export type MessageSource = string

/** An `item_reference` to an earlier response's output, resolved by the route (it needs storage). */
export interface ItemReference {
  /** Where the reference sits in the translated messages. */
  at: number
  id: string
  path: string
}

export interface ResponsesRequest {
  /** Our chat request's fields, unchecked (the schema checks them next); `messages` is the input alone. */
  chat: Record<string, unknown> & { messages: unknown[] }
  /** The system message from `instructions`, kept apart: a chain does not carry earlier instructions. */
  instructions?: string
  /** Per message in `chat.messages`, the caller's path for it (`input.3`). */
  sources: MessageSource[]
  /** Per tool in `chat.tools`, the caller's path for it (`tools.4.tools.2` inside a namespace). */
  toolPaths: string[]
  references: ItemReference[]
  stream: boolean
  /** `store`, as asked (OpenAI's default: true). */
  store: boolean
  background: boolean
  previousResponseId?: string
  /** The request's settings a response repeats back. */
  echo: Record<string, unknown>
  /** Fields dropped on the way, for `X-Gateway-Ignored` and the log line. */
  ignored: string[]
}

/**
 * Maps a Responses request onto the gateway's chat request. Input items become chat messages:
 * message items (roles `user`, `assistant`, `system`, `developer`; content as a string or
 * `input_text`, `input_image`, `output_text` parts), `function_call` items (joined into the
 * assistant message before them) and `function_call_output` items (tool messages). `reasoning`
 * items are accepted and dropped: no provider takes another's reasoning back.
 */
export function fromResponsesRequest(
  body: unknown,
  { maxMessages }: Pick<ChatRequestLimits, 'maxMessages'>,
  { lenient = false }: { lenient?: boolean } = {},
): ResponsesRequest {
  if (!isObject(body)) throw invalidRequest('Responses', [{ path: '(body)', message: 'must be a JSON object' }])
  const tooManyTools = overLength(body.tools, MAX_TOOLS, 'tools')
  if (tooManyTools) throw invalidRequest('Responses', [tooManyTools])
  const { ignored, refused } = sortFields('responses', body, { passedThrough: lenient })
  if (refused.length && lenient) throwUnsupported(refused)
  // Passed through (`lenient`), what the translation cannot express is left out of it, not
  // refused: the upstream gets the caller's body, and refuses what it cannot take itself.
  const unsupported: ErrorIssue[] = lenient ? leftOut() : refused
  const unknown: ErrorIssue[] = []
  if (typeof body.model !== 'string') unknown.unshift({ path: 'model', message: 'is required' })
  if (body.input === undefined && body.previous_response_id == null) {
    unknown.push({ path: 'input', message: 'is required' })
  }
  const toolPaths: string[] = []
  const tools = toolsOf(body.tools, unsupported, toolPaths)
  const toolChoice = toolChoiceOf(body.tool_choice, unsupported)
  const text = isObject(body.text) ? body.text : {}
  const reasoning = isObject(body.reasoning) ? body.reasoning : {}
  const input = inputOf(body.input, maxMessages, unsupported)
  if (unsupported.length && !lenient) throwUnsupported(unsupported)
  if (unknown.length) throw invalidRequest('Responses', unknown)

  if (body.instructions != null && typeof body.instructions !== 'string') {
    throw unsupportedParameter('instructions', 'only a string is carried.')
  }
  const instructions = (body.instructions as string | null | undefined) ?? undefined
  const chat = withoutIdleToolFields(
    {
      model: body.model,
      messages: input.messages,
      temperature: body.temperature ?? undefined,
      top_p: body.top_p ?? undefined,
      max_tokens: body.max_output_tokens ?? undefined,
      tools,
      tool_choice: toolChoice,
      parallel_tool_calls: body.parallel_tool_calls ?? undefined,
      response_format: responseFormatOf(text.format),
      reasoning_effort: reasoning.effort ?? undefined,
      verbosity: text.verbosity ?? undefined,
      prompt_cache_key: body.prompt_cache_key ?? undefined,
    },
    ignored,
  )
  const store = body.store !== false
  const background = body.background === true
  const echo = {
    instructions: instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    metadata: isObject(body.metadata) ? body.metadata : {},
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: reasoning.effort ?? null, summary: reasoning.summary ?? null },
    temperature: body.temperature ?? null,
    text: { format: isObject(text.format) ? text.format : { type: 'text' }, verbosity: text.verbosity ?? 'medium' },
    tool_choice: body.tool_choice ?? 'auto',
    tools: Array.isArray(body.tools) ? body.tools : [],
    top_p: body.top_p ?? null,
    background,
  }
  return {
    chat,
    instructions,
    sources: input.sources,
    toolPaths,
    references: input.references,
    stream: body.stream === true,
    store,
    background,
    previousResponseId: typeof body.previous_response_id === 'string' ? body.previous_response_id : undefined,
    echo,
    ignored: [...new Set(ignored)],
  }
}

/** The lists of a lenient translation: what a step reports there is left out, and nothing is refused. */
const LEFT_OUT = new WeakSet<ErrorIssue[]>()

function leftOut(): ErrorIssue[] {
  const list: ErrorIssue[] = []
  LEFT_OUT.add(list)
  return list
}

/** Whether a step leaves out what it cannot carry (the item or part goes) rather than refusing the request. */
const isLenient = (issues: ErrorIssue[]) => LEFT_OUT.has(issues)

function throwUnsupported(issues: ErrorIssue[]): never {
  throw new GatewayError(400, 'unsupported_parameter', `${issues[0]!.path}: ${issues[0]!.message}`, {
    retryable: false,
    issues,
  })
}

/**
 * Flat function tools (`{type: 'function', name, …}`) in Chat Completions' nested shape, and each
 * function inside a `namespace` tool as one of them under its flat name (`./namespace-tools.ts`);
 * built-in tools refused. `paths` gets, per tool sent, the caller's path for it.
 */
function toolsOf(tools: unknown, unsupported: ErrorIssue[], paths: string[]): unknown {
  if (!Array.isArray(tools)) return tools ?? undefined
  const carried: unknown[] = []
  for (const [i, tool] of tools.entries()) {
    if (isObject(tool) && tool.type === 'namespace' && !isLenient(unsupported)) {
      for (const inner of namespaceFunctions(tool, `tools.${i}`, unsupported)) {
        carried.push(functionTool(inner.tool, inner.path, unsupported, inner.name))
        paths.push(inner.path)
      }
      continue
    }
    if (isLenient(unsupported) && isObject(tool) && tool.type !== 'function') continue
    paths.push(`tools.${i}`)
    if (!isObject(tool)) {
      carried.push(tool)
    } else if (tool.type !== 'function') {
      unsupported.push({
        path: `tools.${i}.type`,
        message: `${typeName(tool.type)} tools are not carried; only function and namespace tools are.${HOSTED_TOOLS.has(typeName(tool.type)) ? ' It is a hosted tool that runs at OpenAI: dropped, the model would answer as if it had used it.' : ''}`,
      })
      carried.push(tool)
    } else carried.push(functionTool(tool, `tools.${i}`, unsupported))
  }
  if (!isLenient(unsupported)) refuseCollisions(carried, paths, unsupported)
  return carried
}

/** A function tool in Chat Completions' shape, under `name` when given (a namespaced function's flat name). */
function functionTool(tool: Record<string, unknown>, path: string, unsupported: ErrorIssue[], flatName?: string) {
  const { type, name, description, parameters, strict, ...rest } = tool
  for (const field of Object.keys(rest)) unsupported.push({ path: `${path}.${field}`, message: 'is not carried.' })
  return {
    type,
    function: {
      name: flatName ?? name,
      description: description ?? undefined,
      parameters: parameters ?? undefined,
      strict,
    },
  }
}
function toolChoiceOf(choice: unknown, unsupported: ErrorIssue[]): unknown {
  if (choice == null || typeof choice === 'string') return choice ?? undefined
  if (isObject(choice) && choice.type === 'function') {
    return { type: 'function', function: { name: upstreamCallName(choice) } }
  }
  if (isLenient(unsupported)) return undefined
  unsupported.push({ path: 'tool_choice', message: 'only none, auto, required or a function is carried.' })
  return undefined
}

/** `text.format` as Chat Completions' `response_format` (`json_schema` nests its schema one level down there). */
function responseFormatOf(format: unknown): unknown {
  if (!isObject(format) || format.type !== 'json_schema') return format ?? undefined
  const { type, name, description, schema, strict } = format
  return { type, json_schema: { name, description, schema, strict } }
}

interface Translated {
  messages: unknown[]
  sources: MessageSource[]
  references: ItemReference[]
}

/**
 * The input items as chat messages. Items and messages are not one to one (a `reasoning` item is
 * dropped, a `function_call` joins the assistant turn before it), so the limit is on the messages
 * they make: the first item past `maxMessages` ends the translation with a 400 at `input`, before
 * any later item is read and before any `item_reference` (one message each) is resolved.
 */
function inputOf(input: unknown, maxMessages: number, unsupported: ErrorIssue[]): Translated {
  const out: Translated = { messages: [], sources: [], references: [] }
  if (input == null) return out
  if (typeof input === 'string') {
    out.messages.push({ role: 'user', content: input })
    out.sources.push('input')
    return out
  }
  if (!Array.isArray(input)) {
    unsupported.push({ path: 'input', message: 'must be a string or an array of items.' })
    return out
  }
  const tooMany = () =>
    invalidRequest('Responses', [{ path: 'input', message: `makes more than the ${maxMessages} messages allowed` }])
  for (const [i, item] of input.entries()) {
    const path = `input.${i}`
    if (out.messages.length > maxMessages) throw tooMany()
    if (!isObject(item)) {
      out.messages.push(item)
      out.sources.push(path)
      continue
    }
    const type = item.type ?? 'message'
    if (type === 'message') {
      out.messages.push(messageOf(item, path, unsupported))
      out.sources.push(path)
    } else if (type === 'function_call') {
      const call = {
        id: item.call_id,
        type: 'function',
        // A call reported into a namespace goes back under the flat name upstream knows it by.
        function: { name: upstreamCallName(item), arguments: item.arguments },
      }
      const previous = out.messages.at(-1) as { role?: string; tool_calls?: unknown[] } | undefined
      // Calls beside the text before them are one assistant turn, as Chat Completions has it.
      if (previous?.role === 'assistant') {
        ;(previous.tool_calls ??= []).push(call)
      } else {
        out.messages.push({ role: 'assistant', content: null, tool_calls: [call] })
        out.sources.push(path)
      }
    } else if (type === 'function_call_output') {
      out.messages.push({
        role: 'tool',
        tool_call_id: item.call_id,
        content: toolOutputOf(item.output, path, unsupported),
      })
      out.sources.push(path)
    } else if (type === 'reasoning') {
      // Accepted, and not carried: a model's reasoning goes back to no provider.
    } else if (type === 'item_reference' && typeof item.id === 'string') {
      out.references.push({ at: out.messages.length, id: item.id, path })
      out.messages.push(null) // its place, filled by the route
      out.sources.push(path)
    } else if (!isLenient(unsupported)) {
      unsupported.push({ path: `${path}.type`, message: `${typeName(type)} items are not carried.` })
    }
  }
  if (out.messages.length > maxMessages) throw tooMany()
  return out
}

function messageOf(item: Record<string, unknown>, path: string, unsupported: ErrorIssue[]): unknown {
  // A string first: `Object.hasOwn` turns any other key into one, and `{"toString":1}` cannot be.
  const role = typeof item.role === 'string' && Object.hasOwn(ROLES, item.role) ? ROLES[item.role] : undefined
  if (!role) {
    unsupported.push({ path: `${path}.role`, message: 'must be user, assistant, system or developer.' })
    return item
  }
  const { content } = item
  if (!Array.isArray(content)) return { role, content }
  const tooLong = overLength(content, MAX_PARTS, `${path}.content`)
  if (tooLong) throw invalidRequest('Responses', [tooLong])
  const parts = content.map((part, p) => partOf(part, `${path}.content.${p}`, unsupported))
  return { role, content: isLenient(unsupported) ? parts.filter((part) => part !== undefined) : parts }
}

/** One content part in Chat Completions' shape. */
function partOf(part: unknown, path: string, unsupported: ErrorIssue[]): unknown {
  if (!isObject(part)) return part
  switch (part.type) {
    case 'input_text':
    case 'output_text':
      return { type: 'text', text: part.text }
    case 'refusal':
      return { type: 'text', text: part.refusal }
    case 'input_image':
      if (typeof part.image_url !== 'string') {
        unsupported.push({ path, message: 'only images by URL (https or data:) are carried, not file ids.' })
        return isLenient(unsupported) ? undefined : part
      }
      return { type: 'image_url', image_url: { url: part.image_url, detail: part.detail ?? undefined } }
    default:
      unsupported.push({ path, message: `${typeName(part.type)} parts are not carried.` })
      return isLenient(unsupported) ? undefined : part
  }
}

/** A tool's output: a string, or text parts. */
function toolOutputOf(output: unknown, path: string, unsupported: ErrorIssue[]): unknown {
  if (!Array.isArray(output)) return output
  const isText = (part: unknown) => isObject(part) && part.type === 'input_text'
  const parts = isLenient(unsupported) ? output.filter(isText) : output
  return parts.map((part, p) => {
    if (isText(part)) return { type: 'text', text: (part as { text?: unknown }).text }
    unsupported.push({ path: `${path}.output.${p}`, message: 'only text is carried in a tool’s output.' })
    return part
  })
}

/**
 * An issue the chat schema found, at the path the caller sent: `messages.2.content` is
 * `input.5.content` here. Fields renamed on the way are named as the caller named them.
 */
export function atResponsesPath(path: string, sources: MessageSource[], toolPaths: string[] = []): string {
  const message = /^messages\.(\d+)(.*)$/.exec(path)
  if (message) return (sources[Number(message[1])] ?? 'input') + message[2]!.replace(/^\.tool_calls\.\d+/, '')
  return path
    .replace(/^tools\.(\d+)(?:\.function)?(?=\.|$)/, (_, i: string) => toolPaths[Number(i)] ?? `tools.${i}`)
    .replace(/^tool_choice\.function\./, 'tool_choice.')
    .replace(/^response_format\.json_schema/, 'text.format')
    .replace(/^response_format/, 'text.format')
    .replace(/^max_tokens/, 'max_output_tokens')
    .replace(/^reasoning_effort/, 'reasoning.effort')
    .replace(/^verbosity/, 'text.verbosity')
}
