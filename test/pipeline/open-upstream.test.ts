import { describe, expect, it } from 'vitest'
import { GatewayError } from '../../src/errors'
import { openUpstream } from '../../src/pipeline/open-upstream'
import type { ProviderAdapter } from '../../src/providers/types'

const request = { messages: [{ role: 'user' as const, content: 'hi' }] }

/** An adapter whose upstream never answers, as a real fetch behaves, until its signal aborts. */
function silentAdapter(seen: { signal?: AbortSignal }): ProviderAdapter {
  return {
    open: (_request, { signal }) => {
      seen.signal = signal
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
    },
  }
}

describe('openUpstream', () => {
  it('gives up with a 504 when the upstream sends no headers in time, aborting it', async () => {
    const seen: { signal?: AbortSignal } = {}
    const opening = openUpstream(silentAdapter(seen), request, {
      headersTimeoutMs: 20,
      signal: new AbortController().signal,
    })
    await expect(opening).rejects.toMatchObject({ status: 504, code: 'upstream_timeout' })
    expect(seen.signal?.aborted).toBe(true)
  })

  it('abandons the upstream as soon as the client’s request signal aborts', async () => {
    const seen: { signal?: AbortSignal } = {}
    const client = new AbortController()
    const opening = openUpstream(silentAdapter(seen), request, { headersTimeoutMs: 60_000, signal: client.signal })
    client.abort()
    const error = await opening.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GatewayError)
    expect(error).toMatchObject({ code: 'client_closed' })
    expect(seen.signal?.aborted).toBe(true)
  })
})
