import * as v from 'valibot'

export interface ChatRequestLimits {
  maxMessages: number
  maxMessageChars: number
}

/**
 * The body of `POST /api/chat`. Strict: an unknown field is an error rather than silently
 * ignored, so a typo (`max_token`) never goes unnoticed.
 */
export function chatRequestSchema({ maxMessages, maxMessageChars }: ChatRequestLimits) {
  const message = v.strictObject({
    role: v.picklist(['system', 'user', 'assistant']),
    content: v.pipe(v.string(), v.maxLength(maxMessageChars)),
  })
  return v.strictObject({
    model: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(256))),
    messages: v.pipe(v.array(message), v.minLength(1), v.maxLength(maxMessages)),
    temperature: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(2))),
    top_p: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1))),
    max_tokens: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
    stop: v.optional(v.union([v.string(), v.pipe(v.array(v.string()), v.maxLength(4))])),
  })
}

export type ChatRequest = v.InferOutput<ReturnType<typeof chatRequestSchema>>
export type ChatMessage = ChatRequest['messages'][number]

/** Where each problem is and what it is, for a 400's `issues`: one entry per offending path. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): Array<{ path: string; message: string }> {
  return issues.map((issue) => ({
    path: v.getDotPath(issue) || '(body)',
    // A strict object reports an unknown field at the field's own path, as "expected never".
    message: issue.type === 'strict_object' && issue.expected === 'never' ? 'is not a known field' : issue.message,
  }))
}
