/**
 * What the demo model says to the chat page's example prompts (public/index.html): an answer of
 * the shape each one asks for (three sentences, a TypeScript function, a table, a checklist), so
 * a person clicking one sees the page render what they asked for, not the same canned reply.
 * Anything else gets the demo's usual answer about the request (reply.ts).
 */
const NOTE =
  '_I am the demo model: this answer was written in advance. Point a model at a real upstream for real ones._'

const ANSWERS: Array<{ asks: RegExp; answer: string }> = [
  {
    asks: /server-sent events/i,
    answer: [
      'Server-Sent Events let a server push a stream of text events to the browser over one ordinary ' +
        'HTTP response that stays open, each event a few `field: value` lines ended by a blank line. ' +
        'The browser’s `EventSource` (or `fetch` and a parser) reads them as they arrive, and reconnects ' +
        'with `Last-Event-ID` when the connection drops, so the server can carry on where it stopped. ' +
        'They flow one way only, which is exactly what streaming an answer token by token needs, and ' +
        'they pass through proxies and HTTP/2 like any other response.',
      NOTE,
    ].join('\n\n'),
  },
  {
    asks: /typescript|\bfunction\b/i,
    answer: [
      'Here is a `fetch` that retries failures worth retrying (network errors, 429 and 5xx), waiting a ' +
        'little longer each time and honouring `Retry-After`:',
      [
        '```ts',
        'export async function fetchWithRetry(',
        '  input: RequestInfo | URL,',
        '  init: RequestInit = {},',
        '  { attempts = 3, baseDelayMs = 500 } = {},',
        '): Promise<Response> {',
        '  for (let attempt = 1; ; attempt++) {',
        '    try {',
        '      const response = await fetch(input, init)',
        '      const retryable = response.status === 429 || response.status >= 500',
        '      if (!retryable || attempt >= attempts) return response',
        "      const retryAfter = Number(response.headers.get('Retry-After'))",
        '      await response.body?.cancel()',
        '      await sleep(retryAfter > 0 ? retryAfter * 1000 : backoff(attempt, baseDelayMs), init.signal)',
        '    } catch (error) {',
        '      if (init.signal?.aborted || attempt >= attempts) throw error',
        '      await sleep(backoff(attempt, baseDelayMs), init.signal)',
        '    }',
        '  }',
        '}',
        '',
        '/** Exponential backoff with full jitter, so many clients do not retry in step. */',
        'const backoff = (attempt: number, baseMs: number) => Math.random() * baseMs * 2 ** (attempt - 1)',
        '',
        'function sleep(ms: number, signal?: AbortSignal | null): Promise<void> {',
        '  return new Promise((resolve, reject) => {',
        '    const timer = setTimeout(resolve, ms)',
        "    signal?.addEventListener('abort', () => {",
        '      clearTimeout(timer)',
        '      reject(signal.reason)',
        '    })',
        '  })',
        '}',
        '```',
      ].join('\n'),
      'Retry only requests that are safe to repeat: a `POST` that charges a card is not, unless it ' +
        'carries an idempotency key.',
      NOTE,
    ].join('\n\n'),
  },
  {
    asks: /sqlite|postgres|\btable\b/i,
    answer: [
      'SQLite and Postgres side by side:',
      [
        '| | SQLite | Postgres |',
        '| --- | --- | --- |',
        '| Runs as | a library inside your process | a server you connect to |',
        '| Setup | none: one file | install, users, a connection string |',
        '| Writers at once | one (readers do not block it in WAL mode) | many, with row-level locks |',
        '| Types | flexible, per value | strict, rich (JSONB, arrays, ranges) |',
        '| Scales by | a faster disk, read replicas (D1, LiteFS) | bigger machines, replicas, partitioning |',
        '| Best for | embedded, edge, tests, one-writer apps | shared data, many writers, complex queries |',
      ].join('\n'),
      'Choose SQLite when one process owns the data; Postgres when many clients write to it at once.',
      NOTE,
    ].join('\n\n'),
  },
  {
    asks: /checklist/i,
    answer: [
      'Before shipping a Worker:',
      [
        '- [ ] Secrets set with `wrangler secret put`, none in `wrangler.toml` or the repository',
        '- [ ] `compatibility_date` recent, and the flags you rely on listed',
        '- [ ] Bindings (KV, D1, Durable Objects, queues) created in the account and migrations applied',
        '- [ ] Errors answered as JSON with the right status, never a stack trace',
        '- [ ] Timeouts on every upstream `fetch`, and the client’s abort passed on',
        '- [ ] Logs that say what happened without personal data; `wrangler tail` checked once',
        '- [ ] A rollback plan: `wrangler rollback` and the previous version’s id',
      ].join('\n'),
      NOTE,
    ].join('\n\n'),
  },
]

/** The written-in-advance answer for one of the example prompts, or undefined for anything else. */
export function exampleAnswer(asked: string): string | undefined {
  return ANSWERS.find(({ asks }) => asks.test(asked))?.answer
}
