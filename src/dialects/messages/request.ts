import { GatewayError, invalidRequest, type ErrorIssue } from '../../errors'
import { MAX_PARTS, MAX_TOOLS, type ChatRequestLimits } from '../../request/chat-request'
import { isObject, overLength, typeName } from '../../request/json-shape'
import { sortFields, withoutIdleToolFields } from '../fields'

/**
 * Anthropic's Messages request in the gateway's terms. Which top-level fields are carried,
 * mapped, ignored or refused is `FIELD_RULES` (shared by every translated surface); everything
 * carried goes through the gateway's own request schema next (the same checks and limits as
 * every surface). Inside messages and tools, a field the translation does not know is dropped and
 * named (`citations`, a tool's `defer_loading`), and a block it cannot carry (a document, a server
 * tool's result) is refused: dropping it would leave the model blind to it. `cache_control` on
 * text blocks and tools is carried (the gateway's schema has it; the Anthropic adapter sends it).
 *
 * Lenient (`passThrough`), for a request the Anthropic adapter sends as the caller wrote it
 * (`../../providers/anthropic/pass-through.ts`): what the translation cannot carry is left out of
 * the gateway's request instead of refused, and listed in `leftOut`. The gateway's request is
 * then only the measure of the answer (estimates, budgets, the cache key); Anthropic gets, and
 * judges, everything.
 */

/** Anthropic's `output_config.effort` as the gateway's `reasoning_effort` (`max` is the most there is). */
const EFFORTS: Record<string, string> = { low: 'low', medium: 'medium', high: 'high', xhigh: 'xhigh', max: 'xhigh' }

/** What a translation found besides the request: refusals, and what it dropped. */
interface Found {
  issues: ErrorIssue[]
  ignored: string[]
  /** Lenient only: what the gateway cannot carry, left out of its request (else it is in `issues`). */
  leftOut?: ErrorIssue[]
}

/** A part the gateway cannot carry: refused, or in a lenient translation, left out and listed. */
function untranslatable(found: Found, issue: ErrorIssue): void {
  ;(found.leftOut ?? found.issues).push(issue)
}

/** The Messages request, translated: our chat request (unchecked, see below) and how to answer. */
export interface TranslatedRequest {
  /** Our request, unchecked (`unknown`): it goes through the gateway's schema next. */
  chat: unknown
  stream: boolean
  /**
   * Where each of our messages came from in the caller's (`messages.3`, `system.0`), and for a
   * message of parts, which of the caller's blocks each part was: for a 400's paths.
   */
  origins: Origin[]
  /** Fields dropped on the way, for `X-Gateway-Ignored` and the log line. */
  ignored: string[]
  /**
   * A lenient translation's parts the gateway cannot carry, left out of `chat` (the caller's body
   * still has them): what a model of another family would refuse. Empty otherwise.
   */
  leftOut: ErrorIssue[]
}

export interface Origin {
  path: string
  parts?: number[]
}

/**
 * Maps an Anthropic Messages request onto the gateway's. A user turn's `tool_result` blocks
 * become tool messages ahead of its text and images (Anthropic wants them first, and OpenAI has
 * them as messages of their own); an assistant turn's `tool_use` blocks become tool calls, its
 * thinking blocks the turn's `thinking`. `maxTokens: false` for `count_tokens`, which has none.
 */
export function fromMessagesRequest(
  body: unknown,
  { maxMessages }: Pick<ChatRequestLimits, 'maxMessages'>,
  { maxTokens = true, passThrough = false } = {},
): TranslatedRequest {
  if (!isObject(body)) throw invalidRequest('Messages', [{ path: '(body)', message: 'must be a JSON object' }])
  // The lists' lengths before any of their items is read: each message and system block is one of ours at least.
  const tooLong =
    overLength(body.messages, maxMessages, 'messages') ??
    overLength(body.system, maxMessages, 'system') ??
    overLength(body.tools, MAX_TOOLS, 'tools')
  if (tooLong) throw refusal([tooLong])
  const { ignored, refused } = sortFields('messages', body)
  const found: Found = { issues: passThrough ? [] : refused, ignored, ...(passThrough && { leftOut: refused }) }
  const { issues } = found
  if (typeof body.model !== 'string') issues.push({ path: 'model', message: 'Field required' })
  if (maxTokens && body.max_tokens === undefined) issues.push({ path: 'max_tokens', message: 'Field required' })
  else if (!maxTokens && body.max_tokens !== undefined) {
    issues.push({ path: 'max_tokens', message: 'is not a count_tokens field.' })
  }
  if (body.stop_sequences !== undefined && !Array.isArray(body.stop_sequences)) {
    issues.push({ path: 'stop_sequences', message: 'must be an array of strings' })
  }
  if (typeof body.temperature === 'number' && body.temperature > 1) {
    issues.push({ path: 'temperature', message: 'must be at most 1' })
  }

  const messages: unknown[] = []
  const origins: Origin[] = []
  const system = body.system
  if (typeof system === 'string') {
    if (system) push(messages, origins, 'system', { role: 'system', content: system })
  } else if (Array.isArray(system)) {
    // One message per block: each is a part of the prompt in its own right (Claude Code sends several).
    for (const [b, block] of system.entries()) {
      const path = `system.${b}`
      if (!isObject(block) || block.type !== 'text') issues.push({ path, message: 'must be a text block' })
      else {
        checkFields(block, TEXT_FIELDS, found)
        const part = textPart(block, found)
        push(messages, origins, path, { role: 'system', content: part.cache_control ? [part] : block.text })
      }
    }
  } else if (system !== undefined) issues.push({ path: 'system', message: 'must be a string or text blocks' })

  if (!Array.isArray(body.messages)) issues.push({ path: 'messages', message: 'must be an array of messages' })
  else {
    for (const [m, message] of body.messages.entries()) fromMessage(message, `messages.${m}`, messages, origins, found)
  }

  const tools = fromTools(body.tools, found)
  const toolChoice = fromToolChoice(body.tool_choice, found)
  const chosen = toolChoice.tool_choice
  const carried = Array.isArray(tools.tools) ? tools.tools : []
  if (found.leftOut && isObject(chosen) && !carried.some((tool) => isNamed(tool, chosen.function))) {
    // The tool it names was left out (a server tool): so is the choice.
    found.leftOut.push({ path: 'tool_choice', message: 'names a tool that is not carried.' })
    delete toolChoice.tool_choice
  }
  const reasoning = fromReasoning(body.thinking, body.output_config, found)
  if (issues.length) throw refusal(issues)
  const chat = withoutIdleToolFields(
    {
      model: body.model,
      messages,
      max_tokens: body.max_tokens,
      temperature: body.temperature,
      top_p: body.top_p,
      top_k: body.top_k,
      stop: body.stop_sequences,
      ...reasoning,
      ...tools,
      ...toolChoice,
    },
    ignored,
  )
  return {
    chat,
    stream: body.stream === true,
    origins,
    ignored: [...new Set(ignored)],
    leftOut: found.leftOut ?? [],
  }
}

/** A text block's fields the gateway carries. */
const TEXT_FIELDS = ['type', 'text', 'cache_control']

/**
 * A text block as our text part, with its prompt-cache breakpoint. A `cache_control` of a shape
 * the gateway does not know goes to its schema to be refused by name, or in a lenient
 * translation, is left out of the gateway's request (Anthropic gets the caller's own).
 */
function textPart(
  block: Record<string, unknown>,
  found: Found,
): { type: 'text'; text: unknown; cache_control?: unknown } {
  const mark = cacheControlOf(block.cache_control, found)
  return { type: 'text', text: block.text, ...(mark !== undefined && { cache_control: mark }) }
}

function cacheControlOf(mark: unknown, found: Found): unknown {
  if (mark == null) return undefined
  const known =
    isObject(mark) &&
    mark.type === 'ephemeral' &&
    Object.keys(mark).every((key) => key === 'type' || key === 'ttl') &&
    (mark.ttl === undefined || mark.ttl === '5m' || mark.ttl === '1h')
  return known || !found.leftOut ? mark : undefined
}

/** A 400 naming every field it cannot carry; the first one in its message, as Anthropic's do. */
function refusal(issues: ErrorIssue[]): GatewayError {
  const [first] = issues
  return new GatewayError(400, 'invalid_request', `${first!.path}: ${first!.message}`, { retryable: false, issues })
}

function push(messages: unknown[], origins: Origin[], path: string, message: unknown, parts?: number[]): void {
  messages.push(message)
  origins.push(parts ? { path, parts } : { path })
}

/**
 * Drops and names the fields of a block, message or tool beyond `known`: hints about caching and
 * citing (`cache_control`, `citations`) and whatever Anthropic adds next. Named by the field's
 * own name, once, however many blocks had it (Claude Code marks several for caching).
 */
function checkFields(block: Record<string, unknown>, known: string[], found: Found): void {
  for (const field of Object.keys(block)) if (!known.includes(field)) found.ignored.push(field)
}

/**
 * `thinking` and `output_config` as the gateway's: `enabled` with its budget and `disabled` are
 * carried; `adaptive` (the model decides how much to think) leaves it to the model, at the effort
 * `output_config.effort` asks, mapped to `reasoning_effort`. `output_config.format` (structured
 * output) is refused: dropped, the answer would not be in the format asked for.
 */
function fromReasoning(thinking: unknown, config: unknown, found: Found) {
  const mapped: { thinking?: unknown; reasoning_effort?: string } = {}
  if (isObject(thinking) && (thinking.type === 'enabled' || thinking.type === 'disabled')) {
    const { type, budget_tokens, ...rest } = thinking
    mapped.thinking = type === 'enabled' ? { type, budget_tokens } : { type }
    for (const field of Object.keys(rest)) found.ignored.push(`thinking.${field}`)
  } else if (isObject(thinking) && thinking.type === 'adaptive') {
    // Adaptive is how the model thinks by default; `display` only shapes what Anthropic returns.
    if (thinking.display !== undefined) found.ignored.push('thinking.display')
  } else if (thinking !== undefined && found.leftOut) {
    found.leftOut.push({ path: 'thinking', message: 'is not a thinking setting the gateway knows.' })
  } else if (thinking !== undefined) mapped.thinking = thinking // the schema names what is wrong with it
  if (config === undefined) return mapped
  if (!isObject(config)) {
    found.issues.push({ path: 'output_config', message: 'must be an object' })
    return mapped
  }
  for (const [field, value] of Object.entries(config)) {
    if (field === 'effort' && typeof value === 'string' && Object.hasOwn(EFFORTS, value)) {
      mapped.reasoning_effort = EFFORTS[value]
    } else if (field === 'format' && value != null) {
      untranslatable(found, {
        path: 'output_config.format',
        message: 'structured output is not carried; define a tool instead.',
      })
    } else found.ignored.push(`output_config.${field}`)
  }
  return mapped
}

function fromMessage(message: unknown, path: string, messages: unknown[], origins: Origin[], found: Found) {
  const role = isObject(message) ? message.role : undefined
  if (!isObject(message) || (role !== 'user' && role !== 'assistant' && role !== 'system')) {
    found.issues.push({ path: `${path}.role`, message: "must be 'user', 'assistant' or 'system'" })
    return
  }
  checkFields(message, ['role', 'content'], found)
  const { content } = message
  if (role === 'system') {
    // A system message mid-conversation (Claude Code sends one): the upstream's system message, where it stands.
    fromSystemMessage(content, path, messages, origins, found)
    return
  }
  if (typeof content === 'string') {
    push(messages, origins, path, { role, content })
    return
  }
  if (!Array.isArray(content)) {
    found.issues.push({ path: `${path}.content`, message: 'must be a string or an array of blocks' })
    return
  }
  const tooLong = overLength(content, MAX_PARTS, `${path}.content`)
  if (tooLong) return void found.issues.push(tooLong)
  if (role === 'user') fromUserBlocks(content, path, messages, origins, found)
  else fromAssistantBlocks(content, path, messages, origins, found)
}

/** A system message's content, a string or text blocks, as our system message of text parts. */
function fromSystemMessage(content: unknown, path: string, messages: unknown[], origins: Origin[], found: Found) {
  if (typeof content === 'string') {
    push(messages, origins, path, { role: 'system', content })
    return
  }
  if (!Array.isArray(content)) {
    found.issues.push({ path: `${path}.content`, message: 'must be a string or text blocks' })
    return
  }
  const parts: unknown[] = []
  const partOrigins: number[] = []
  for (const [b, block] of content.entries()) {
    if (!isObject(block) || block.type !== 'text') {
      found.issues.push({ path: `${path}.content.${b}`, message: 'must be a text block' })
    } else {
      checkFields(block, TEXT_FIELDS, found)
      parts.push(textPart(block, found))
      partOrigins.push(b)
    }
  }
  push(messages, origins, path, { role: 'system', content: parts }, partOrigins)
}

function fromUserBlocks(blocks: unknown[], path: string, messages: unknown[], origins: Origin[], found: Found): void {
  const parts: unknown[] = []
  const partOrigins: number[] = []
  for (const [b, block] of blocks.entries()) {
    const at = `${path}.content.${b}`
    if (isObject(block) && block.type === 'tool_result') {
      checkFields(block, ['type', 'tool_use_id', 'content', 'is_error', 'cache_control'], found)
      const content = toolResultContent(block.content, `${at}.content`, found)
      // A breakpoint on the result: the result as one marked text part (Claude Code marks its last turn's).
      const mark = typeof content === 'string' ? cacheControlOf(block.cache_control, found) : undefined
      if (mark === undefined && block.cache_control != null && typeof content !== 'string')
        found.ignored.push('cache_control')
      push(messages, origins, at, {
        role: 'tool',
        tool_call_id: block.tool_use_id,
        content: mark === undefined ? content : [{ type: 'text', text: content, cache_control: mark }],
        ...(block.is_error === true && { is_error: true }),
      })
    } else {
      const part = fromContentBlock(block, at, found)
      if (part) {
        parts.push(part)
        partOrigins.push(b)
      }
    }
  }
  if (parts.length) push(messages, origins, path, { role: 'user', content: parts }, partOrigins)
  // A turn all of whose blocks were left out (a lone document) still stands, so turns alternate.
  else if (found.leftOut && !blocks.some((b) => isObject(b) && b.type === 'tool_result')) {
    push(messages, origins, path, { role: 'user', content: '' })
  }
}

/** A tool result's content as ours: a string, text blocks joined, or with images, parts. */
function toolResultContent(content: unknown, path: string, found: Found): unknown {
  if (content === undefined) return ''
  if (!Array.isArray(content)) return content
  const parts = content.map((block, b) => {
    if (isObject(block) && (block.type === 'text' || block.type === 'image'))
      return fromContentBlock(block, `${path}.${b}`, found)
    untranslatable(found, { path: `${path}.${b}`, message: 'only text and images are carried in a tool result.' })
    return undefined
  })
  if (parts.some((part) => isObject(part) && part.type === 'image_url')) return parts
  return parts.map((part) => (isObject(part) && typeof part.text === 'string' ? part.text : '')).join('')
}

/** A user turn's text or image block as our content part. */
function fromContentBlock(block: unknown, path: string, found: Found): unknown {
  if (!isObject(block)) {
    found.issues.push({ path, message: 'must be a content block' })
    return undefined
  }
  if (block.type === 'text') {
    checkFields(block, TEXT_FIELDS, found)
    return textPart(block, found)
  }
  if (block.type === 'image') {
    checkFields(block, ['type', 'source'], found)
    const source = isObject(block.source) ? block.source : {}
    if (source.type === 'base64') {
      checkFields(source, ['type', 'media_type', 'data'], found)
      const { media_type: mediaType, data } = source
      if (typeof mediaType !== 'string' || typeof data !== 'string') {
        found.issues.push({ path: `${path}.source`, message: 'media_type and data must be strings.' })
        return undefined
      }
      return { type: 'image_url', image_url: { url: `data:${mediaType};base64,${data}` } }
    }
    if (source.type === 'url') {
      checkFields(source, ['type', 'url'], found)
      return { type: 'image_url', image_url: { url: source.url } }
    }
    untranslatable(found, { path: `${path}.source`, message: 'only base64 and url image sources are carried.' })
    return undefined
  }
  untranslatable(found, { path, message: `${describe(block.type)} blocks are not carried.` })
  return undefined
}

function fromAssistantBlocks(
  blocks: unknown[],
  path: string,
  messages: unknown[],
  origins: Origin[],
  found: Found,
): void {
  const text: unknown[] = []
  const textOrigins: number[] = []
  const toolCalls: unknown[] = []
  const thinking: unknown[] = []
  for (const [b, block] of blocks.entries()) {
    const at = `${path}.content.${b}`
    if (!isObject(block)) {
      found.issues.push({ path: at, message: 'must be a content block' })
    } else if (block.type === 'text') {
      checkFields(block, TEXT_FIELDS, found)
      text.push(textPart(block, found))
      textOrigins.push(b)
    } else if (block.type === 'tool_use') {
      checkFields(block, ['type', 'id', 'name', 'input'], found)
      toolCalls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      })
    } else if (block.type === 'thinking') {
      checkFields(block, ['type', 'thinking', 'signature'], found)
      thinking.push({ type: 'thinking', thinking: block.thinking, signature: block.signature ?? '' })
    } else if (block.type === 'redacted_thinking') {
      checkFields(block, ['type', 'data'], found)
      thinking.push({ type: 'redacted_thinking', data: block.data })
    } else {
      untranslatable(found, { path: at, message: `${describe(block.type)} blocks are not carried.` })
    }
  }
  push(
    messages,
    origins,
    path,
    {
      role: 'assistant',
      content: text.length ? text : toolCalls.length ? null : '',
      ...(toolCalls.length && { tool_calls: toolCalls }),
      ...(thinking.length && { thinking }),
    },
    textOrigins,
  )
}

/**
 * Client tools as our function tools. Anthropic's server tools (web search, code execution…) are
 * refused: they run at Anthropic, and dropped, the model would answer as if it had searched.
 */
function fromTools(tools: unknown, found: Found): { tools?: unknown } {
  if (tools === undefined) return {}
  if (!Array.isArray(tools)) return { tools }
  const carried = tools.flatMap((tool, t) => {
    const path = `tools.${t}`
    if (!isObject(tool)) return [tool]
    if (tool.type !== undefined && tool.type !== 'custom') {
      untranslatable(found, {
        path: `${path}.type`,
        message: `${describe(tool.type)} is a server tool, which only Anthropic runs; it is not carried.`,
      })
      return found.leftOut ? [] : [tool]
    }
    checkFields(tool, ['type', 'name', 'description', 'input_schema', 'strict', 'cache_control'], found)
    const mark = cacheControlOf(tool.cache_control, found)
    return [
      {
        type: 'function',
        function: {
          name: tool.name,
          description: tool.description,
          parameters: tool.input_schema,
          strict: tool.strict,
        },
        ...(mark !== undefined && { cache_control: mark }),
      },
    ]
  })
  return { tools: carried }
}

/** Anthropic's `tool_choice` as OpenAI's `tool_choice` and `parallel_tool_calls`. */
function fromToolChoice(choice: unknown, found: Found): { tool_choice?: unknown; parallel_tool_calls?: boolean } {
  if (choice === undefined) return {}
  if (!isObject(choice)) {
    found.issues.push({ path: 'tool_choice', message: 'must be an object' })
    return {}
  }
  checkFields(choice, ['type', 'name', 'disable_parallel_tool_use'], found)
  const serial = choice.disable_parallel_tool_use === true ? { parallel_tool_calls: false } : {}
  switch (choice.type) {
    case 'auto':
      return { tool_choice: 'auto', ...serial }
    case 'any':
      return { tool_choice: 'required', ...serial }
    case 'none':
      return { tool_choice: 'none' }
    case 'tool':
      return { tool_choice: { type: 'function', function: { name: choice.name } }, ...serial }
    default:
      found.issues.push({ path: 'tool_choice.type', message: "must be 'auto', 'any', 'tool' or 'none'" })
      return {}
  }
}

/** Whether a translated tool is the function `chosen` names. */
function isNamed(tool: unknown, chosen: unknown): boolean {
  return isObject(tool) && isObject(tool.function) && isObject(chosen) && tool.function.name === chosen.name
}

function describe(type: unknown): string {
  return typeof type === 'string' ? `'${typeName(type)}'` : 'untyped'
}

/**
 * The caller's path for an issue the gateway's schema found in the translated request: where its
 * message came from (`messages.3.content.1` for a tool result), the block a part came from, and
 * Anthropic's names for fields (`source` for an image's URL, `stop_sequences`, `input_schema`).
 */
export function callerPath(path: string, origins: Origin[]): string {
  const message = /^messages\.(\d+)(?:\.content\.(\d+)(\.image_url\.url)?)?(.*)$/.exec(path)
  if (message) {
    const [, m, p, image, rest] = message
    const origin = origins[Number(m)]
    if (!origin) return path
    if (p === undefined) return origin.path + rest
    const block = origin.parts?.[Number(p)] ?? Number(p)
    return `${origin.path}.content.${block}${image ? '.source' : ''}${rest}`
  }
  return path
    .replace(/^stop\b/, 'stop_sequences')
    .replace(/^tools\.(\d+)\.function\.parameters/, 'tools.$1.input_schema')
    .replace(/^tools\.(\d+)\.function\./, 'tools.$1.')
    .replace(/^tool_choice\.function\.name/, 'tool_choice.name')
}
