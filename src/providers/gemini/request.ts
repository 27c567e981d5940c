import type { GeminiModelConfig } from '../../config/models'
import { GatewayError, unsupportedParameter } from '../../errors'
import { parseDataUrl, textOf, type ChatRequest, type ContentPart } from '../../request/chat-request'
import { parseToolArguments, toolNamesById } from '../tool-arguments'
import { refuseToolResultImages } from '../tool-results'

type Part = Record<string, unknown>
interface Content {
  role: 'user' | 'model'
  parts: Part[]
}

/**
 * Google's documented stand-in for a function call's thought signature when the history was not
 * kept with its signatures (ours is OpenAI-shaped, which has no place for them). Gemini 3 refuses
 * a function call turn without one.
 */
const NO_THOUGHT_SIGNATURE = 'skip_thought_signature_validator'

/** The image types Gemini reads (of those the gateway accepts: not GIF), by a URL's extension. */
const EXTENSION_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
}

/**
 * The `generateContent` body for a request. Gemini calls the assistant `model`, takes the system
 * prompt apart, nests the sampling settings, declares tools as `functionDeclarations`, answers
 * them with `functionResponse` parts (by function name, not call id), and reads structured
 * output from `responseMimeType` and `responseJsonSchema`.
 */
export function toGenerateContentBody(config: GeminiModelConfig, request: ChatRequest) {
  refuseToolResultImages(request, 'Gemini')
  if (request.parallel_tool_calls === false) {
    throw unsupportedParameter('parallel_tool_calls', 'Gemini has no way to ask for one tool call at a time.')
  }
  const system = request.messages.filter((m) => m.role === 'system').map((m) => ({ text: textOf(m.content) }))
  const format = request.response_format
  // The request's own `thinking` (Anthropic's shape) goes over the model's config.
  const asked = request.thinking
  const includeThoughts = asked ? asked.type === 'enabled' : config.include_thoughts
  const budget = asked ? (asked.type === 'enabled' ? asked.budget_tokens : 0) : config.thinking_budget_tokens
  const thinking = includeThoughts || budget !== undefined
  return {
    ...(system.length && { systemInstruction: { parts: system } }),
    contents: toContents(request),
    ...(request.tools && {
      tools: [
        {
          functionDeclarations: request.tools.map(({ function: f }) => ({
            name: f.name,
            ...(f.description !== undefined && { description: f.description }),
            // Full JSON Schema, as OpenAI's tools carry it (`parameters` takes only an OpenAPI subset).
            ...(f.parameters && { parametersJsonSchema: f.parameters }),
          })),
        },
      ],
    }),
    ...(request.tool_choice && { toolConfig: { functionCallingConfig: functionCallingConfig(request.tool_choice) } }),
    generationConfig: {
      temperature: request.temperature,
      topP: request.top_p,
      topK: request.top_k,
      maxOutputTokens: request.max_tokens,
      stopSequences: typeof request.stop === 'string' ? [request.stop] : request.stop,
      ...(format?.type === 'json_object' && { responseMimeType: 'application/json' }),
      ...(format?.type === 'json_schema' && {
        responseMimeType: 'application/json',
        ...(format.json_schema.schema && { responseJsonSchema: format.json_schema.schema }),
      }),
      ...(thinking && {
        thinkingConfig: {
          ...(includeThoughts && { includeThoughts: true }),
          ...(budget !== undefined && { thinkingBudget: budget }),
        },
      }),
    },
  }
}

function functionCallingConfig(choice: NonNullable<ChatRequest['tool_choice']>) {
  if (choice === 'none') return { mode: 'NONE' }
  if (choice === 'auto') return { mode: 'AUTO' }
  if (choice === 'required') return { mode: 'ANY' }
  return { mode: 'ANY', allowedFunctionNames: [choice.function.name] }
}

function toContents(request: ChatRequest): Content[] {
  const names = toolNamesById(request)
  const contents: Content[] = []
  for (const [m, message] of request.messages.entries()) {
    switch (message.role) {
      case 'system':
        break
      case 'user':
        contents.push({
          role: 'user',
          parts:
            typeof message.content === 'string'
              ? [{ text: message.content }]
              : message.content.map((part, p) => toPart(part, `messages.${m}.content.${p}`)),
        })
        break
      case 'assistant': {
        const text = textOf(message.content)
        const parts: Part[] = text ? [{ text }] : []
        for (const [c, call] of (message.tool_calls ?? []).entries()) {
          const args = parseToolArguments(call.function.arguments, `messages.${m}.tool_calls.${c}.function.arguments`)
          parts.push({
            functionCall: { id: call.id, name: call.function.name, args },
            // Only a turn's first call needs one.
            ...(c === 0 && { thoughtSignature: NO_THOUGHT_SIGNATURE }),
          })
        }
        contents.push({ role: 'model', parts: parts.length ? parts : [{ text: '' }] })
        break
      }
      case 'tool': {
        const name = names.get(message.tool_call_id)
        if (!name) {
          throw new GatewayError(400, 'invalid_request', `messages.${m}.tool_call_id names no earlier tool call.`, {
            retryable: false,
            issues: [
              { path: `messages.${m}.tool_call_id`, message: 'names no tool call of an earlier assistant message' },
            ],
          })
        }
        const part = {
          functionResponse: {
            id: message.tool_call_id,
            name,
            response: message.is_error
              ? { error: textOf(message.content) } // Gemini's documented key for a failed call
              : toolResponse(textOf(message.content)),
          },
        }
        // A turn's results go back together: Gemini matches them to its calls one for one.
        const last = contents.at(-1)
        if (last && request.messages[m - 1]?.role === 'tool') last.parts.push(part)
        else contents.push({ role: 'user', parts: [part] })
        break
      }
    }
  }
  return contents
}

/** Gemini wants a tool's result as an object: a JSON object result as it is, anything else as `output`. */
function toolResponse(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text)
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>
  } catch {
    // plain text
  }
  return { output: text }
}

function toPart(part: ContentPart, path: string): Part {
  if (part.type === 'text') return { text: part.text }
  const url = part.image_url.url
  const data = parseDataUrl(url)
  if (data) {
    if (data.mediaType === 'image/gif') throw unsupportedParameter(path, 'Gemini does not read GIF images.')
    return { inlineData: { mimeType: data.mediaType, data: data.data } }
  }
  const extension = /\.([a-z]+)$/i.exec(new URL(url).pathname)?.[1]?.toLowerCase()
  const mimeType = extension && EXTENSION_TYPES[extension]
  if (!mimeType) {
    throw unsupportedParameter(
      path,
      "Gemini needs to know an image URL's type: use a URL ending in .png, .jpg or .webp, or a data: URL.",
    )
  }
  return { fileData: { mimeType, fileUri: url } }
}
