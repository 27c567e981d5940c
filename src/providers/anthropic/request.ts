import type { AnthropicModelConfig } from '../../config/models'
import { unsupportedParameter } from '../../errors'
import {
  parseDataUrl,
  textOf,
  type CacheControl,
  type ChatMessage,
  type ChatRequest,
  type ContentPart,
  type TextPart,
} from '../../request/chat-request'
import { anthropicThinkingBudget } from '../reasoning-effort'
import { parseToolArguments } from '../tool-arguments'

type ThinkingBlocks = NonNullable<Extract<ChatMessage, { role: 'assistant' }>['thinking']>

type Block = Record<string, unknown>
interface AnthropicMessage {
  role: 'user' | 'assistant'
  content: string | Block[]
}

/**
 * The Messages API body for a request. Anthropic takes the system prompt apart from the turns,
 * requires `max_tokens`, calls stop strings `stop_sequences`, answers tool calls with
 * `tool_result` blocks in a user turn, and has its own `tool_choice`. Extended thinking is the
 * model's config (`thinking_budget_tokens`) unless the request sets its own `thinking`, or its
 * `reasoning_effort` mapped to a budget (`../reasoning-effort.ts`); an assistant turn's thinking
 * blocks go back first in the turn, with their signatures. `verbosity` has no Anthropic
 * counterpart and is ignored.
 */
export function toMessagesBody(config: AnthropicModelConfig, request: ChatRequest) {
  const format = request.response_format?.type
  if (format && format !== 'text') {
    throw unsupportedParameter(
      'response_format',
      'Anthropic models have no JSON output mode the gateway can carry; ask for JSON in a message, or define a tool.',
    )
  }
  const maxTokens = request.max_tokens ?? config.max_tokens
  // The request's own `thinking` first, then its `reasoning_effort`, then the model's config.
  const fromEffort = anthropicThinkingBudget(request.reasoning_effort, config.thinking_budget_tokens, maxTokens)
  const budget = request.thinking
    ? request.thinking.type === 'enabled'
      ? request.thinking.budget_tokens
      : undefined
    : fromEffort === 0
      ? undefined
      : fromEffort
  if (budget !== undefined && maxTokens <= budget) {
    throw unsupportedParameter(
      'max_tokens',
      `must be above this model's thinking budget (${budget} tokens), which it includes.`,
    )
  }
  return {
    model: config.upstream_model,
    max_tokens: maxTokens,
    ...systemOf(request.messages),
    messages: toAnthropicMessages(request.messages),
    temperature: request.temperature,
    top_p: request.top_p,
    top_k: request.top_k,
    stop_sequences: typeof request.stop === 'string' ? [request.stop] : request.stop,
    ...(budget !== undefined && { thinking: { type: 'enabled', budget_tokens: budget } }),
    ...(request.tools && {
      tools: request.tools.map(({ function: f, cache_control }) => ({
        name: f.name,
        ...(f.description !== undefined && { description: f.description }),
        input_schema: f.parameters ?? { type: 'object', properties: {} },
        ...(cache_control && { cache_control }),
      })),
    }),
    ...toolChoice(request),
    stream: true,
  }
}

/** OpenAI's `tool_choice` and `parallel_tool_calls` in Anthropic's terms. */
function toolChoice({ tool_choice: choice, parallel_tool_calls: parallel }: ChatRequest) {
  if (choice === 'none') return { tool_choice: { type: 'none' } }
  const serial = parallel === false && { disable_parallel_tool_use: true }
  if (choice === 'required') return { tool_choice: { type: 'any', ...serial } }
  if (typeof choice === 'object') return { tool_choice: { type: 'tool', name: choice.function.name, ...serial } }
  if (choice === 'auto' || serial) return { tool_choice: { type: 'auto', ...serial } }
  return {}
}

function toAnthropicMessages(messages: ChatMessage[]): AnthropicMessage[] {
  const turns: AnthropicMessage[] = []
  for (const [m, message] of messages.entries()) {
    switch (message.role) {
      case 'system':
        break
      case 'user':
        turns.push({
          role: 'user',
          content: typeof message.content === 'string' ? message.content : message.content.map(toBlock),
        })
        break
      case 'assistant': {
        const text = textOf(message.content)
        const thinking = thinkingBlocks(message.thinking)
        // Parts marked for the prompt cache stay blocks of their own, each with its mark.
        const textBlocks = cacheMarked(message.content)
          ? message.content.map(toBlock)
          : text
            ? [{ type: 'text', text }]
            : []
        if (!message.tool_calls && !thinking.length) {
          turns.push({ role: 'assistant', content: cacheMarked(message.content) ? textBlocks : text })
          break
        }
        const blocks: Block[] = [...thinking, ...textBlocks]
        for (const [c, call] of (message.tool_calls ?? []).entries()) {
          const path = `messages.${m}.tool_calls.${c}.function.arguments`
          blocks.push({
            type: 'tool_use',
            id: call.id,
            name: call.function.name,
            input: parseToolArguments(call.function.arguments, path),
          })
        }
        turns.push({ role: 'assistant', content: blocks })
        break
      }
      case 'tool': {
        const result = {
          type: 'tool_result',
          tool_use_id: message.tool_call_id,
          // Text as a string, as it came; with images, as blocks.
          content:
            typeof message.content !== 'string' &&
            (message.content.some((part) => part.type === 'image_url') || cacheMarked(message.content))
              ? message.content.map(toBlock)
              : textOf(message.content),
          ...(message.is_error && { is_error: true }),
        }
        // The results of one turn's calls go back together, in one user turn.
        const last = turns.at(-1)
        if (last && messages[m - 1]?.role === 'tool') (last.content as Block[]).push(result)
        else turns.push({ role: 'user', content: [result] })
        break
      }
    }
  }
  return turns
}

/**
 * Thinking blocks as Anthropic takes them back. One without a signature (thinking another
 * provider streamed) cannot be: Anthropic refuses an unsigned block, so it is left out.
 */
function thinkingBlocks(blocks: ThinkingBlocks | undefined): Block[] {
  if (!blocks) return []
  return blocks.filter((block) => block.type === 'redacted_thinking' || block.signature !== '')
}

/**
 * The system prompt, apart from the turns: one string, or, when a part of it is marked for the
 * prompt cache, one text block per system message, each with the last mark among its parts
 * (Anthropic caches everything up to a marked block; a message's parts are one block here).
 */
function systemOf(messages: ChatMessage[]) {
  const system = messages.filter((m) => m.role === 'system')
  if (!system.length) return {}
  if (!system.some((m) => cacheMarked(m.content))) return { system: system.map((m) => textOf(m.content)).join('\n\n') }
  return {
    system: system.map(({ content }) => {
      const mark = cacheMarked(content) ? content.findLast((part) => part.cache_control)?.cache_control : undefined
      return { type: 'text', text: textOf(content), ...(mark && { cache_control: mark }) }
    }),
  }
}

/** Whether any part of this content is a prompt-cache breakpoint. */
function cacheMarked<T extends { cache_control?: CacheControl }>(
  content: string | readonly (T | ContentPart)[] | null | undefined,
): content is readonly (T | ContentPart)[] {
  return Array.isArray(content) && content.some((part) => part.type === 'text' && part.cache_control !== undefined)
}

function toBlock(part: ContentPart | TextPart): Block {
  if (part.type === 'text')
    return { type: 'text', text: part.text, ...(part.cache_control && { cache_control: part.cache_control }) }
  const data = parseDataUrl(part.image_url.url)
  return {
    type: 'image',
    source: data
      ? { type: 'base64', media_type: data.mediaType, data: data.data }
      : { type: 'url', url: part.image_url.url },
  }
}
