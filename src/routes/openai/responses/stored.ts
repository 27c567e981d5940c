import type { Context } from 'hono'
import { principalOf } from '../../../access/authenticate'
import type { Principal } from '../../../access/principal'
import type { AppEnv } from '../../../app-env'
import { clipped, GatewayError } from '../../../errors'
import type { StoredEvent } from '../../../events/stored-event'
import { responseObject, responseSnapshot } from '../../../dialects/responses/format'
import { upstreamCallName } from '../../../dialects/responses/namespaces'
import type { ChatMessage } from '../../../request/chat-request'
import { isStreamId } from '../../../streams/stream-id'
import { answerStream } from '../../shared/stored-answer'

/**
 * Stored responses: a response's id is `resp_` and the id of the answer's Durable Object, which
 * keeps, beside the answer's events, who owns it, the conversation it answered and the settings
 * it repeats back (its attachment). The output is never kept twice: it is read from the events.
 */

/** What a stored response keeps beside its events. */
export interface KeptResponse {
  /** The principal that created it: anyone else is told it does not exist. */
  owner: string
  /** The conversation it answered, without its `instructions` (a chain does not carry those on). */
  messages: ChatMessage[]
  echo: Record<string, unknown>
  /** The model asked for, and when (Unix seconds): the response before its first event is stored. */
  model: string
  createdAt: number
}

export const responseIdOf = (streamId: string) => `resp_${streamId}`

const RESPONSE_ID = /^resp_(.+)$/
/** `msg_`, `rs_` or `fc_`, the response's stream id, and the item's index in its output. */
const ITEM_ID = /^(msg|rs|fc)_([A-Za-z0-9_-]{24})_(\d{1,6})$/

/** A response that exists, is kept, and belongs to the caller: its object and what it keeps. */
export interface OwnedResponse {
  id: string
  /** The owner's principal id, which every call to its object names. */
  owner: string
  stream: ReturnType<typeof answerStream>
  kept: KeptResponse
}

/**
 * The caller's stored response by its id, or a 404 in OpenAI's shape (`path` names where the id
 * came from). Another principal's response is as missing as one that never existed.
 */
export async function ownedResponse(c: Context<AppEnv>, id: string, path?: string): Promise<OwnedResponse> {
  const principal = await storingPrincipal(c, path ?? 'response_id')
  const streamId = RESPONSE_ID.exec(id)?.[1]
  if (!streamId || !isStreamId(streamId)) throw noSuchResponse(id, path)
  const stream = answerStream(c, 'responses', streamId)
  const json = await stream.attachment(principal.id)
  const kept = json === null ? undefined : (JSON.parse(json) as KeptResponse)
  if (!kept || kept.owner !== principal.id) throw noSuchResponse(id, path)
  return { id, owner: principal.id, stream, kept }
}

/** Stored responses belong to someone: a caller without credentials has none (401). */
export async function storingPrincipal(c: Context<AppEnv>, what: string): Promise<Principal> {
  const principal = await principalOf(c)
  if (principal.kind === 'anonymous') {
    throw new GatewayError(
      401,
      'unauthorized',
      `${what} needs credentials: responses are stored per API key or token.`,
      {
        retryable: false,
        headers: { 'WWW-Authenticate': 'Bearer' },
      },
    )
  }
  return principal
}

export function noSuchResponse(id: string, path?: string): GatewayError {
  return new GatewayError(
    404,
    'response_not_found',
    `No response with id '${id}': it never existed, has expired or was deleted.`,
    {
      retryable: false,
      ...(path && { issues: [{ path, message: 'names no stored response' }] }),
    },
  )
}

/** The response as it stands (in progress with its output so far, or as it ended). */
export async function snapshotOf({ id, owner, stream, kept }: OwnedResponse) {
  const events: StoredEvent[] = []
  for (;;) {
    const page = await stream.events(events.at(-1)?.id ?? 0, 1000, owner)
    if (!page) throw noSuchResponse(id) // deleted or expired meanwhile
    events.push(...page.events)
    if (page.events.length < 1000) break
  }
  // Nothing stored yet (the first events wait for their group commit): a response just begun.
  return (
    responseSnapshot(events, kept.echo) ??
    responseObject({
      id,
      createdAt: kept.createdAt,
      model: kept.model,
      status: 'in_progress',
      output: [],
      echo: kept.echo,
    })
  )
}

type Snapshot = Awaited<ReturnType<typeof snapshotOf>>
type OutputItem = {
  type: string
  content?: Array<{ text: string }>
  call_id?: string
  name?: string
  namespace?: string
  arguments?: string
}

/**
 * A stored response's output as chat messages: its text and its tool calls as one assistant
 * turn. Its reasoning is left out, as on every other turn.
 */
export function outputAsMessages(output: Snapshot['output']): ChatMessage[] {
  let text = ''
  const calls: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> = []
  for (const item of output as OutputItem[]) {
    if (item.type === 'message') text += item.content?.map((part) => part.text).join('') ?? ''
    else if (item.type === 'function_call') {
      // A call reported into a namespace was made upstream under its flat name.
      const name = upstreamCallName(item) as string
      calls.push({ id: item.call_id!, type: 'function', function: { name, arguments: item.arguments! } })
    }
  }
  if (!text && !calls.length) return []
  return [{ role: 'assistant', content: text || null, ...(calls.length && { tool_calls: calls }) }]
}

/**
 * The conversation a `previous_response_id` continues: the messages that response answered
 * (its own chain's included), then its output.
 */
export async function conversationBefore(c: Context<AppEnv>, previousId: string): Promise<ChatMessage[]> {
  const previous = await ownedResponse(c, previousId, 'previous_response_id')
  const snapshot = await snapshotOf(previous)
  if (snapshot.status === 'in_progress') {
    throw new GatewayError(400, 'invalid_request', `Response '${previousId}' is still in progress.`, {
      retryable: false,
      issues: [{ path: 'previous_response_id', message: 'is still in progress' }],
    })
  }
  return [...previous.kept.messages, ...outputAsMessages(snapshot.output)]
}

/**
 * Resolves `item_reference`s for one request: the messages each stands for, an item of an earlier
 * response's output (the AI SDK refers to the text it was given this way when responses are
 * stored). A reasoning item stands for nothing (it is not carried); an unknown item is a 404.
 * Each item is resolved once and each response read once, however often they are named: the
 * route caps references at `MAX_MESSAGES`, and a repeated one costs no further object call.
 */
export function itemResolver(c: Context<AppEnv>): (itemId: string, path: string) => Promise<ChatMessage[]> {
  const items = new Map<string, Promise<ChatMessage[]>>()
  const outputs = new Map<string, Promise<Snapshot['output'] | undefined>>()
  const outputOf = (responseId: string) => {
    let output = outputs.get(responseId)
    if (!output) {
      output = ownedResponse(c, responseId).then(
        async (owned) => (await snapshotOf(owned)).output,
        () => undefined,
      )
      outputs.set(responseId, output)
    }
    return output
  }
  const resolve = async (itemId: string, path: string): Promise<ChatMessage[]> => {
    const match = ITEM_ID.exec(itemId)
    if (match?.[1] === 'rs') return []
    const item = match && (await outputOf(responseIdOf(match[2]!)))?.[Number(match[3])]
    if (!item) {
      throw new GatewayError(404, 'item_not_found', `No item with id '${clipped(itemId, 80)}' in a stored response.`, {
        retryable: false,
        issues: [{ path, message: 'names no stored item' }],
      })
    }
    return outputAsMessages([item])
  }
  return (itemId, path) => {
    let messages = items.get(itemId)
    if (!messages) items.set(itemId, (messages = resolve(itemId, path)))
    return messages
  }
}
