import { GatewayError, invalidRequest, type ErrorIssue } from '../../errors'
import { MAX_PARTS, MAX_TOOLS, type ChatRequestLimits } from '../../request/chat-request'
import { isObject, overLength, typeName } from '../../request/json-shape'

/**
 * What the gateway does with each part of Anthropic's Messages request. Everything it carries
 * goes through the gateway's own request schema next (the same checks and limits as every
 * surface); anything it cannot carry is refused with a 400 naming it, never dropped, except
 * hints that change nothing about the answer (`metadata`, `cache_control`, `service_tier`).
 */

/** Carried to the model. */
const CARRIED = new Set([
  'model',
  'max_tokens',
  'system',
  'messages',
  'tools',
  'tool_choice',
  'stop_sequences',
  'temperature',
  'top_p',
  'top_k',
  'thinking',
  'stream',
])

/** Dropped: an end user's id for Anthropic's abuse checks, and a billing tier. */
const IGNORED = new Set(['metadata', 'service_tier'])

/** Anthropic's own features that run on its side, which no other model has and the gateway does not carry. */
const NOT_CARRIED: Record<string, string> = {
  container: 'code execution containers are not carried.',
  mcp_servers: 'MCP servers run at Anthropic and are not carried; give the tools as client tools.',
  context_management: 'context management is not carried.',
  output_format: 'structured output is not carried; define a tool instead.',
}

/** Block fields that are hints about caching or citing, with no bearing on what the model is asked. */
const HINTS = new Set(['cache_control', 'citations'])

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
  { maxTokens = true } = {},
): TranslatedRequest {
  if (!isObject(body)) throw invalidRequest('Messages', [{ path: '(body)', message: 'must be a JSON object' }])
  // The lists' lengths before any of their items is read: each message and system block is one of ours at least.
  const tooLong =
    overLength(body.messages, maxMessages, 'messages') ??
    overLength(body.system, maxMessages, 'system') ??
    overLength(body.tools, MAX_TOOLS, 'tools')
  if (tooLong) throw refusal([tooLong])
  const issues: ErrorIssue[] = []
  for (const field of Object.keys(body)) {
    if (CARRIED.has(field) || IGNORED.has(field)) continue
    issues.push({
      path: field,
      message:
        (Object.hasOwn(NOT_CARRIED, field) && NOT_CARRIED[field]) || 'is not a Messages field the gateway carries.',
    })
  }
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
        checkFields(block, ['type', 'text'], path, issues)
        push(messages, origins, path, { role: 'system', content: block.text })
      }
    }
  } else if (system !== undefined) issues.push({ path: 'system', message: 'must be a string or text blocks' })

  if (!Array.isArray(body.messages)) issues.push({ path: 'messages', message: 'must be an array of messages' })
  else {
    for (const [m, message] of body.messages.entries()) fromMessage(message, `messages.${m}`, messages, origins, issues)
  }

  const tools = fromTools(body.tools, issues)
  const toolChoice = fromToolChoice(body.tool_choice, issues)
  if (issues.length) throw refusal(issues)
  return {
    chat: {
      model: body.model,
      messages,
      max_tokens: body.max_tokens,
      temperature: body.temperature,
      top_p: body.top_p,
      top_k: body.top_k,
      stop: body.stop_sequences,
      thinking: body.thinking,
      ...tools,
      ...toolChoice,
    },
    stream: body.stream === true,
    origins,
  }
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

/** Refuses fields of a block beyond `known` (and the hints, which are dropped). */
function checkFields(block: Record<string, unknown>, known: string[], path: string, issues: ErrorIssue[]): void {
  for (const field of Object.keys(block)) {
    if (!known.includes(field) && !HINTS.has(field)) {
      issues.push({ path: `${path}.${field}`, message: 'is not carried.' })
    }
  }
}

function fromMessage(message: unknown, path: string, messages: unknown[], origins: Origin[], issues: ErrorIssue[]) {
  if (!isObject(message) || (message.role !== 'user' && message.role !== 'assistant')) {
    issues.push({ path: `${path}.role`, message: "must be 'user' or 'assistant'" })
    return
  }
  checkFields(message, ['role', 'content'], path, issues)
  const { role, content } = message
  if (typeof content === 'string') {
    push(messages, origins, path, { role, content })
    return
  }
  if (!Array.isArray(content)) {
    issues.push({ path: `${path}.content`, message: 'must be a string or an array of blocks' })
    return
  }
  const tooLong = overLength(content, MAX_PARTS, `${path}.content`)
  if (tooLong) return void issues.push(tooLong)
  if (role === 'user') fromUserBlocks(content, path, messages, origins, issues)
  else fromAssistantBlocks(content, path, messages, origins, issues)
}

function fromUserBlocks(
  blocks: unknown[],
  path: string,
  messages: unknown[],
  origins: Origin[],
  issues: ErrorIssue[],
): void {
  const parts: unknown[] = []
  const partOrigins: number[] = []
  for (const [b, block] of blocks.entries()) {
    const at = `${path}.content.${b}`
    if (isObject(block) && block.type === 'tool_result') {
      checkFields(block, ['type', 'tool_use_id', 'content', 'is_error'], at, issues)
      push(messages, origins, at, {
        role: 'tool',
        tool_call_id: block.tool_use_id,
        content: toolResultContent(block.content, `${at}.content`, issues),
        ...(block.is_error === true && { is_error: true }),
      })
    } else {
      const part = fromContentBlock(block, at, issues)
      if (part) {
        parts.push(part)
        partOrigins.push(b)
      }
    }
  }
  if (parts.length) push(messages, origins, path, { role: 'user', content: parts }, partOrigins)
}

/** A tool result's content as ours: a string, text blocks joined, or with images, parts. */
function toolResultContent(content: unknown, path: string, issues: ErrorIssue[]): unknown {
  if (content === undefined) return ''
  if (!Array.isArray(content)) return content
  const parts = content.map((block, b) => {
    if (isObject(block) && (block.type === 'text' || block.type === 'image'))
      return fromContentBlock(block, `${path}.${b}`, issues)
    issues.push({ path: `${path}.${b}`, message: 'only text and images are carried in a tool result.' })
    return undefined
  })
  if (parts.some((part) => isObject(part) && part.type === 'image_url')) return parts
  return parts.map((part) => (isObject(part) && typeof part.text === 'string' ? part.text : '')).join('')
}

/** A user turn's text or image block as our content part. */
function fromContentBlock(block: unknown, path: string, issues: ErrorIssue[]): unknown {
  if (!isObject(block)) {
    issues.push({ path, message: 'must be a content block' })
    return undefined
  }
  if (block.type === 'text') {
    checkFields(block, ['type', 'text'], path, issues)
    return { type: 'text', text: block.text }
  }
  if (block.type === 'image') {
    checkFields(block, ['type', 'source'], path, issues)
    const source = isObject(block.source) ? block.source : {}
    if (source.type === 'base64') {
      checkFields(source, ['type', 'media_type', 'data'], `${path}.source`, issues)
      const { media_type: mediaType, data } = source
      if (typeof mediaType !== 'string' || typeof data !== 'string') {
        issues.push({ path: `${path}.source`, message: 'media_type and data must be strings.' })
        return undefined
      }
      return { type: 'image_url', image_url: { url: `data:${mediaType};base64,${data}` } }
    }
    if (source.type === 'url') {
      checkFields(source, ['type', 'url'], `${path}.source`, issues)
      return { type: 'image_url', image_url: { url: source.url } }
    }
    issues.push({ path: `${path}.source`, message: 'only base64 and url image sources are carried.' })
    return undefined
  }
  issues.push({ path, message: `${describe(block.type)} blocks are not carried.` })
  return undefined
}

function fromAssistantBlocks(
  blocks: unknown[],
  path: string,
  messages: unknown[],
  origins: Origin[],
  issues: ErrorIssue[],
): void {
  const text: unknown[] = []
  const textOrigins: number[] = []
  const toolCalls: unknown[] = []
  const thinking: unknown[] = []
  for (const [b, block] of blocks.entries()) {
    const at = `${path}.content.${b}`
    if (!isObject(block)) {
      issues.push({ path: at, message: 'must be a content block' })
    } else if (block.type === 'text') {
      checkFields(block, ['type', 'text'], at, issues)
      text.push({ type: 'text', text: block.text })
      textOrigins.push(b)
    } else if (block.type === 'tool_use') {
      checkFields(block, ['type', 'id', 'name', 'input'], at, issues)
      toolCalls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      })
    } else if (block.type === 'thinking') {
      checkFields(block, ['type', 'thinking', 'signature'], at, issues)
      thinking.push({ type: 'thinking', thinking: block.thinking, signature: block.signature ?? '' })
    } else if (block.type === 'redacted_thinking') {
      checkFields(block, ['type', 'data'], at, issues)
      thinking.push({ type: 'redacted_thinking', data: block.data })
    } else {
      issues.push({ path: at, message: `${describe(block.type)} blocks are not carried.` })
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

/** Client tools as our function tools; Anthropic's server tools (web search, bash, computer…) are refused. */
function fromTools(tools: unknown, issues: ErrorIssue[]) {
  if (tools === undefined) return {}
  if (!Array.isArray(tools)) return { tools }
  return {
    tools: tools.map((tool, t) => {
      const path = `tools.${t}`
      if (!isObject(tool)) return tool
      if (tool.type !== undefined && tool.type !== 'custom') {
        issues.push({ path: `${path}.type`, message: `${describe(tool.type)} is a server tool, which is not carried.` })
        return tool
      }
      checkFields(tool, ['type', 'name', 'description', 'input_schema'], path, issues)
      return {
        type: 'function',
        function: { name: tool.name, description: tool.description, parameters: tool.input_schema },
      }
    }),
  }
}

/** Anthropic's `tool_choice` as OpenAI's `tool_choice` and `parallel_tool_calls`. */
function fromToolChoice(choice: unknown, issues: ErrorIssue[]) {
  if (choice === undefined) return {}
  if (!isObject(choice)) {
    issues.push({ path: 'tool_choice', message: 'must be an object' })
    return {}
  }
  checkFields(choice, ['type', 'name', 'disable_parallel_tool_use'], 'tool_choice', issues)
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
      issues.push({ path: 'tool_choice.type', message: "must be 'auto', 'any', 'tool' or 'none'" })
      return {}
  }
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
