import { afterEach, describe, expect, it, vi } from 'vitest'
import { idTag } from '../../src/log'
import { loggedPath } from '../../src/logged-path'
import { newStreamId } from '../../src/streams/stream-id'
import { call, streamEnv } from '../streams/helpers'

/**
 * Issue 19, minor: live stream and chat ids appeared whole in `request refused` log lines. A
 * stream id is the capability to read and stop its answer, so the log holds a short hash instead.
 */
afterEach(() => vi.restoreAllMocks())

async function logged(work: () => Promise<unknown>): Promise<string[]> {
  const lines: string[] = []
  for (const method of ['log', 'warn', 'error'] as const) {
    vi.spyOn(console, method).mockImplementation((line: unknown) => void lines.push(String(line)))
  }
  await work()
  return lines
}

describe('ids in logged paths', () => {
  it.each([
    ['GET', (id: string) => `/api/streams/${id}`],
    ['DELETE', (id: string) => `/api/streams/${id}`],
    ['DELETE', (id: string) => `/api/ui/chat/${id}/stream`],
  ])('%s %s: the refusal is logged with a hash of the id, never the id', async (method, pathOf) => {
    const id = newStreamId()
    const lines = await logged(async () => {
      const response = await call(pathOf(id), { method }, streamEnv())
      expect(response.status).toBe(404)
    })
    const refused = lines.map((line) => JSON.parse(line)).find((line) => line.msg === 'request refused')
    expect(refused.path).toMatch(/^\/api\/(streams|ui\/chat)\/#[0-9a-f]{8}/)
    expect(lines.join('\n')).not.toContain(id)
  })
})

describe('loggedPath', () => {
  it.each([
    ['/api/streams/ID', '/api/streams/TAG'],
    ['/api/ui/chat/ID/stream', '/api/ui/chat/TAG/stream'],
    ['/v1/responses/resp_ID', '/v1/responses/resp_TAG'],
    ['/v1/responses/resp_ID/cancel', '/v1/responses/resp_TAG/cancel'],
    ['/v1/responses/ID', '/v1/responses/TAG'],
  ])("%s is logged as %s, a response with its stream id's tag", (path, logged) => {
    const id = newStreamId()
    expect(loggedPath(path.replace('ID', id))).toBe(logged.replace('TAG', idTag(id)))
  })
})
