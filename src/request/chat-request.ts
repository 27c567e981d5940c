import * as v from 'valibot'
import type { ErrorIssue } from '../errors'
import { jsonChars } from './json-limits'

export interface ChatRequestLimits {
  maxMessages: number
  maxMessageChars: number
  /** Decoded bytes of one `data:` image. */
  maxImageBytes: number
}

/** The image types every provider with vision accepts. */
export const IMAGE_MEDIA_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const

const DATA_URL = /^data:(image\/(?:png|jpeg|gif|webp));base64,([A-Za-z0-9+/]*={0,2})$/
/** OpenAI's rule for function names, which every provider accepts. */
const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/
/** Most content parts, tool calls or thinking blocks in one message: far above any real turn. */
export const MAX_PARTS = 1000
/** Most tools in one request (OpenAI's own limit). */
export const MAX_TOOLS = 128

/**
 * An array of `item`s, from `min` to `max` long, its length checked before any item is: a list
 * of 127,000 bad items is one issue at the list, not 127,000 (valibot checks a pipe's actions only
 * after its schema, so `v.pipe(v.array(item), v.maxLength(max))` would check every item first).
 */
function list<TItem extends v.GenericSchema>(item: TItem, max: number, min = 0) {
  return v.pipe(v.array(v.unknown()), v.minLength(min), v.maxLength(max), v.array(item))
}

/**
 * The body of `POST /api/chat`. Strict: an unknown field is an error rather than silently
 * ignored, so a typo (`max_token`) never goes unnoticed.
 *
 * Messages, content parts, tools and `response_format` have OpenAI's Chat Completions shapes, so
 * the same request works here and on `/v1`, and passes to OpenAI-compatible upstreams unchanged.
 */
export function chatRequestSchema({ maxMessages, maxMessageChars, maxImageBytes }: ChatRequestLimits) {
  const text = v.pipe(v.string(), v.maxLength(maxMessageChars))
  /**
   * A prompt-cache breakpoint (Anthropic's `cache_control`, in the OpenAI-shaped place OpenRouter
   * and LiteLLM take it): the prompt up to and including this part or tool is cached. Emitted by
   * the Anthropic adapter; every other adapter leaves it out (their providers cache on their own).
   */
  const cacheControl = v.optional(
    v.strictObject({ type: v.literal('ephemeral'), ttl: v.optional(v.picklist(['5m', '1h'])) }),
  )
  const textPart = v.strictObject({ type: v.literal('text'), text, cache_control: cacheControl })
  const imagePart = v.strictObject({
    type: v.literal('image_url'),
    image_url: v.strictObject({
      url: v.pipe(
        v.string(),
        v.check(
          // Parsed here, not first in an adapter after the answer was admitted (`https://[`).
          (url) => (/^https:\/\/[^\s]+$/i.test(url) && URL.canParse(url)) || DATA_URL.test(url),
          `must be an https URL or a data:image/(png|jpeg|gif|webp);base64 URL`,
        ),
        v.check(
          (url) => !url.startsWith('data:') || dataUrlBytes(url) <= maxImageBytes,
          `is an image larger than ${maxImageBytes} bytes`,
        ),
      ),
      detail: v.optional(v.picklist(['auto', 'low', 'high'])),
    }),
  })
  /** A string, or parts; the text of all parts together is held to the same limit as a string. */
  const content = <P extends v.GenericSchema<{ type: string }>>(part: P) =>
    v.lazy((input) =>
      Array.isArray(input)
        ? v.pipe(
            list(part, MAX_PARTS, 1),
            v.check(
              (parts) => textLength(parts) <= maxMessageChars,
              `has more than ${maxMessageChars} characters of text`,
            ),
          )
        : text,
    )
  /**
   * A JSON Schema (a tool's `parameters`, a `json_schema`'s `schema`): any object, held to the
   * size of a message, since it travels upstream and counts toward the prompt like one.
   */
  const jsonSchema = v.pipe(
    v.record(v.string(), v.unknown()),
    v.check((schema) => jsonChars(schema) <= maxMessageChars, `is more than ${maxMessageChars} characters of JSON`),
  )
  // A variant, even of one, so a part of another type is one issue at its `type`.
  const textContent = content(v.variant('type', [textPart]))
  const toolCall = v.strictObject({
    id: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
    type: v.literal('function'),
    function: v.strictObject({ name: v.pipe(v.string(), v.regex(FUNCTION_NAME)), arguments: v.string() }),
  })
  /**
   * Anthropic's thinking blocks from an earlier answer, with the signatures that seal them: sent
   * back to Anthropic models (a tool loop with thinking needs them), dropped for the others.
   */
  const thinkingBlock = v.variant('type', [
    v.strictObject({ type: v.literal('thinking'), thinking: v.string(), signature: v.string() }),
    v.strictObject({ type: v.literal('redacted_thinking'), data: v.string() }),
  ])
  const message = v.pipe(
    v.variant('role', [
      v.strictObject({ role: v.literal('system'), content: textContent }),
      v.strictObject({ role: v.literal('user'), content: content(v.variant('type', [textPart, imagePart])) }),
      v.strictObject({
        role: v.literal('assistant'),
        content: v.nullish(textContent),
        tool_calls: v.optional(list(toolCall, MAX_PARTS, 1)),
        thinking: v.optional(list(thinkingBlock, MAX_PARTS)),
      }),
      v.strictObject({
        role: v.literal('tool'),
        tool_call_id: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
        /** Images in a tool's result reach the providers that read them there (Anthropic); the others refuse them. */
        content: content(v.variant('type', [textPart, imagePart])),
        /** The tool failed and `content` says how (Anthropic's `is_error`; others read it in the content). */
        is_error: v.optional(v.boolean()),
      }),
    ]),
    v.check(
      (m) => m.role !== 'assistant' || m.content != null || m.tool_calls !== undefined,
      'an assistant message needs content or tool_calls',
    ),
  )
  const tool = v.strictObject({
    type: v.literal('function'),
    function: v.strictObject({
      name: v.pipe(v.string(), v.regex(FUNCTION_NAME, 'must be 1 to 64 letters, digits, _ or -')),
      description: v.optional(v.pipe(v.string(), v.maxLength(maxMessageChars))),
      /** A JSON Schema object. */
      parameters: v.optional(jsonSchema),
      strict: v.nullish(v.boolean()),
    }),
    cache_control: cacheControl,
  })
  const responseFormat = v.variant('type', [
    v.strictObject({ type: v.literal('text') }),
    v.strictObject({ type: v.literal('json_object') }),
    v.strictObject({
      type: v.literal('json_schema'),
      json_schema: v.strictObject({
        name: v.pipe(v.string(), v.regex(FUNCTION_NAME, 'must be 1 to 64 letters, digits, _ or -')),
        description: v.optional(v.string()),
        schema: v.optional(jsonSchema),
        strict: v.nullish(v.boolean()),
      }),
    }),
  ])
  return v.strictObject({
    model: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(256))),
    messages: list(message, maxMessages, 1),
    temperature: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(2))),
    top_p: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1))),
    /** Sample from the `top_k` likeliest tokens: carried where the provider has it, refused where not. */
    top_k: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
    /**
     * Extended thinking for this request (Anthropic's shape), over the model's configured budget:
     * carried to Anthropic and Gemini models; other models reason as they do.
     */
    thinking: v.optional(
      v.variant('type', [
        v.strictObject({
          type: v.literal('enabled'),
          budget_tokens: v.pipe(v.number(), v.integer(), v.minValue(1024)),
        }),
        v.strictObject({ type: v.literal('disabled') }),
      ]),
    ),
    max_tokens: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
    stop: v.optional(v.union([v.string(), list(v.string(), 4)])),
    tools: v.optional(list(tool, MAX_TOOLS)),
    tool_choice: v.optional(
      v.union([
        v.picklist(['none', 'auto', 'required']),
        v.strictObject({ type: v.literal('function'), function: v.strictObject({ name: v.string() }) }),
      ]),
    ),
    parallel_tool_calls: v.optional(v.boolean()),
    response_format: v.optional(responseFormat),
    /** How hard a reasoning model thinks: carried as is to OpenAI-compatible upstreams, mapped by the others' adapters. */
    reasoning_effort: v.optional(v.picklist(REASONING_EFFORTS)),
    /** How long an answer to write: OpenAI-compatible upstreams only; others ignore it. */
    verbosity: v.optional(v.picklist(['low', 'medium', 'high'])),
    /** Which of the provider's prompt caches to use (OpenAI's): carried to OpenAI upstreams; others ignore it. */
    prompt_cache_key: v.optional(v.pipe(v.string(), v.maxLength(1024))),
  })
}

/** OpenAI's reasoning efforts, least to most. */
export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'] as const
export type ReasoningEffort = (typeof REASONING_EFFORTS)[number]

export type ChatRequest = v.InferOutput<ReturnType<typeof chatRequestSchema>>
export type ChatMessage = ChatRequest['messages'][number]
export type UserMessage = Extract<ChatMessage, { role: 'user' }>
export type ContentPart = Exclude<UserMessage['content'], string>[number]
export type ImagePart = Extract<ContentPart, { type: 'image_url' }>
export type TextPart = Extract<ContentPart, { type: 'text' }>
export type ToolCall = NonNullable<Extract<ChatMessage, { role: 'assistant' }>['tool_calls']>[number]
export type ToolDefinition = NonNullable<ChatRequest['tools']>[number]
export type ResponseFormat = NonNullable<ChatRequest['response_format']>
export type CacheControl = NonNullable<TextPart['cache_control']>

/** Where each problem is and what it is, for a 400's `issues`: one entry per offending path. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): Array<{ path: string; message: string }> {
  return issues.map((issue) => ({
    path: v.getDotPath(issue) || '(body)',
    // A strict object reports an unknown field at the field's own path, as "expected never".
    message: issue.type === 'strict_object' && issue.expected === 'never' ? 'is not a known field' : issue.message,
  }))
}

/** The text of a message's content, parts joined (images leave no text). */
export function textOf(content: string | ReadonlyArray<{ type: string; text?: string }> | null | undefined): string {
  if (content == null) return ''
  if (typeof content === 'string') return content
  let text = ''
  for (const part of content) if (part.type === 'text') text += part.text
  return text
}

/** Every image in a request (a tool's result included), with the path that names it in a 400 (`messages.0.content.1`). */
export function* imagesOf(request: Pick<ChatRequest, 'messages'>): Generator<{ path: string; image: ImagePart }> {
  for (const [m, message] of request.messages.entries()) {
    if ((message.role !== 'user' && message.role !== 'tool') || typeof message.content === 'string') continue
    for (const [p, part] of message.content.entries()) {
      if (part.type === 'image_url') yield { path: `messages.${m}.content.${p}`, image: part }
    }
  }
}

/** A `data:` image URL's media type and base64 data; undefined for an https URL. */
export function parseDataUrl(url: string): { mediaType: string; data: string } | undefined {
  const match = DATA_URL.exec(url)
  return match ? { mediaType: match[1]!, data: match[2]! } : undefined
}

/** The decoded size of a base64 `data:` URL, without decoding it. */
function dataUrlBytes(url: string): number {
  const data = url.slice(url.indexOf(',') + 1)
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0
  return Math.floor((data.length * 3) / 4) - padding
}

function textLength(parts: ReadonlyArray<{ type: string; text?: string }>): number {
  let length = 0
  for (const part of parts) if (part.type === 'text') length += part.text!.length
  return length
}

/**
 * What the schema cannot see one field at a time: too many images, and a `tool_choice` without
 * the tool it names. One issue per offending path, as the schema reports its own.
 */
export function requestIssues(request: ChatRequest, { maxImages }: { maxImages: number }): ErrorIssue[] {
  const issues: ErrorIssue[] = []
  let images = 0
  for (const { path } of imagesOf(request)) {
    if (++images === maxImages + 1) issues.push({ path, message: `is one image more than the ${maxImages} allowed` })
  }
  const choice = request.tool_choice
  if (choice !== undefined && choice !== 'none' && !request.tools?.length) {
    issues.push({ path: 'tool_choice', message: 'needs tools' })
  } else if (typeof choice === 'object' && !request.tools?.some((t) => t.function.name === choice.function.name)) {
    issues.push({ path: 'tool_choice.function.name', message: 'names no function in tools' })
  }
  return issues
}
