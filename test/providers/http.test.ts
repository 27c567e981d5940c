import { describe, expect, it } from 'vitest'
import { upstreamRefusal } from '../../src/providers/http'

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } })

describe('upstreamRefusal', () => {
  it('passes a 429 on with its Retry-After, in our words (OpenAI’s name the organisation)', async () => {
    const error = await upstreamRefusal(
      json(429, { error: { message: 'Slow down, organization org-AbCdEf123456' } }, { 'Retry-After': '7' }),
    )
    expect(error).toMatchObject({
      status: 429,
      code: 'upstream_rate_limited',
      message: 'The model provider is rate limiting requests.',
      retryable: true,
    })
    expect(error.toResponse().headers.get('Retry-After')).toBe('7')
  })

  it('passes on what was wrong with the request (400) with the upstream’s reason, scrubbed', async () => {
    const error = await upstreamRefusal(json(400, { error: { message: 'context too long for http://10.0.0.5:80' } }))
    expect(error).toMatchObject({
      status: 400,
      code: 'upstream_rejected_request',
      message: 'The model provider rejected the request: context too long for [url]',
    })
  })

  it('makes a bad key the gateway’s fault (502) and never repeats the upstream’s words about it', async () => {
    const error = await upstreamRefusal(json(401, { error: { message: 'Incorrect API key provided: sk-abc***xyz' } }))
    expect(error).toMatchObject({ status: 502, code: 'upstream_auth_failed', retryable: false })
    expect(error.message).not.toContain('sk-')
  })

  it('maps 5xx to 502, and 503 with its Retry-After', async () => {
    expect(await upstreamRefusal(new Response('<html>oops</html>', { status: 500 }))).toMatchObject({
      status: 502,
      code: 'upstream_error',
    })
    const unavailable = await upstreamRefusal(
      json(503, { message: 'down: http://internal-vllm.svc.cluster.local:8000' }, { 'Retry-After': '30' }),
    )
    expect(unavailable).toMatchObject({ status: 503, message: 'The model provider is unavailable.' })
    expect(unavailable.toResponse().headers.get('Retry-After')).toBe('30')
  })
})
