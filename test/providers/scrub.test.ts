import { describe, expect, it } from 'vitest'
import { redactSecrets, scrubForClient } from '../../src/providers/scrub'

describe('scrubForClient', () => {
  it.each([
    ['Incorrect API key provided: sk-abc***xyz (via proxy http://10.0.0.5:8000/v1 …)', ['sk-abc', '10.0.0.5', 'http']],
    ['Rate limit reached in organization org-AbCdEf123456 on requests per min', ['org-AbCdEf']],
    ['connect error: http://internal-vllm.svc.cluster.local:8000 refused', ['internal-vllm', 'cluster']],
    ['host internal-vllm.svc.cluster.local:8000 refused', ['internal-vllm', '8000']],
    ['bad gateway vllm-0:8000 at [fd00::1]:443 and 2001:db8::7', ['vllm-0', 'fd00', '2001:db8']],
    ['key AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUv was rejected', ['AIza']],
    ['Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc was rejected', ['eyJ']],
    ['project proj_Ab12Cd34Ef56 over quota; write to billing@example.com', ['proj_', 'billing@']],
    ['token 3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a is unknown', ['3f9a8b7c']],
    ['see api.openai.com or https://example.com/x?key=abc', ['openai.com', 'example.com', 'key=abc']],
  ])('removes what names a key, account or host: %s', (text, leaks) => {
    const scrubbed = scrubForClient(text)
    for (const leak of leaks) expect(scrubbed).not.toContain(leak)
  })

  it('keeps a reason that helps the caller fix the request', () => {
    const reason = "Invalid value for 'temperature': 3 is greater than the maximum of 2 - 'messages.0.content'."
    expect(scrubForClient(reason)).toBe(reason)
    expect(scrubForClient('prompt is too long: 210000 tokens > 200000 maximum at 12:30:45')).toBe(
      'prompt is too long: 210000 tokens > 200000 maximum at 12:30:45',
    )
  })

  it('is bounded', () => {
    expect(scrubForClient('word '.repeat(1000)).length).toBeLessThanOrEqual(300)
  })
})

describe('redactSecrets (for the log)', () => {
  it('removes keys and tokens but keeps hosts, which the operator needs', () => {
    const text = 'Incorrect API key provided: sk-abc***xyz (via proxy http://10.0.0.5:8000/v1)'
    expect(redactSecrets(text)).toBe('Incorrect API key provided: [redacted] (via proxy http://10.0.0.5:8000/v1)')
  })
})
