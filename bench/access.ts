/**
 * What access control adds to the time to first byte: the same request, anonymous, with an API
 * key (no limits: hash and look-up only), with a key that has a budget and a stream limit (plus
 * a round trip to the principal's Durable Object), and with a JWT verified against a JWKS served
 * on 127.0.0.1 (cached after the first request). Kinds take turns request by request, so a
 * slower moment of the machine falls on all of them alike. Run by `npm run bench`.
 */
import { once } from 'node:events'
import { createServer } from 'node:http'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { generateApiKey, hashApiKey } from '../src/access/api-key.ts'
import { claims, rsaSigningKey, signJwt } from '../test/helpers/jwt.ts'
import { startWranglerDev } from '../test/e2e/wrangler-dev.ts'
import { apiOnlyConfig } from './contenders.ts'
import { percentile } from './stats.ts'

const ISSUER = 'https://id.bench.test'
const AUDIENCE = 'bench'

export interface AccessFigures {
  /** Kind -> time to first byte, p50 and p99 (ms). */
  ttfb: Record<string, { p50: number; p99: number }>
  requests: number
}

export async function measureAccess(upstreamUrl: string, requests: number): Promise<AccessFigures> {
  const signer = await rsaSigningKey('bench-1')
  const jwks = createServer((_, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify({ keys: [signer.publicJwk] }))
  }).listen(0, '127.0.0.1')
  await once(jwks, 'listening')
  const key = generateApiKey()
  const limitedKey = generateApiKey()
  const dev = await startWranglerDev(
    {
      DEFAULT_MODEL: 'bench',
      MODELS: JSON.stringify({ bench: { adapter: 'openai', base_url: upstreamUrl, upstream_model: 'bench' } }),
      ANONYMOUS_MODELS: 'bench',
      API_KEYS: JSON.stringify({
        plain: { sha256: await hashApiKey(key), models: ['bench'] },
        limited: {
          sha256: await hashApiKey(limitedKey),
          models: ['bench'],
          daily_tokens: 1_000_000_000,
          concurrent_streams: 100,
        },
      }),
      JWT: JSON.stringify({
        jwks_url: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`,
        issuer: ISSUER,
        audience: AUDIENCE,
        models: ['bench'],
      }),
    },
    {},
    { config: apiOnlyConfig() },
  )
  const token = await signJwt(claims({ iss: ISSUER, aud: AUDIENCE, sub: 'bench-user', exp: 4102444800 }), signer)
  const kinds: Record<string, Record<string, string>> = {
    anonymous: {},
    'API key': { Authorization: `Bearer ${key}` },
    'API key + limits (Durable Object)': { Authorization: `Bearer ${limitedKey}` },
    'JWT (JWKS cached)': { Authorization: `Bearer ${token}` },
  }
  try {
    const times = Object.fromEntries(Object.keys(kinds).map((kind) => [kind, [] as number[]]))
    const warmUp = Math.max(5, Math.floor(requests / 10))
    for (let i = 0; i < warmUp + requests; i++) {
      for (const [kind, headers] of Object.entries(kinds)) {
        const ms = await timeToFirstByte(dev.url, headers)
        if (i >= warmUp) times[kind]!.push(ms)
      }
    }
    const ttfb = Object.fromEntries(
      Object.entries(times).map(([kind, values]) => [
        kind,
        { p50: percentile(values, 0.5), p99: percentile(values, 0.99) },
      ]),
    )
    return { ttfb, requests }
  } finally {
    await dev.stop()
    jwks.close()
  }
}

/** The figures as a Markdown table: each kind's TTFB and what it adds to the anonymous one. */
export function accessTable({ ttfb, requests }: AccessFigures): string {
  const base = ttfb.anonymous!
  const f = (ms: number) => ms.toFixed(2)
  const signed = (ms: number) => `${ms >= 0 ? '+' : ''}${ms.toFixed(2)}`
  return [
    `Access control: time to first byte, ${requests} requests of each kind, taking turns (ms)`,
    '',
    '| request | TTFB p50 | TTFB p99 | added p50 | added p99 |',
    '| --- | --- | --- | --- | --- |',
    ...Object.entries(ttfb).map(([kind, { p50, p99 }]) =>
      kind === 'anonymous'
        ? `| ${kind} | ${f(p50)} | ${f(p99)} | | |`
        : `| ${kind} | ${f(p50)} | ${f(p99)} | ${signed(p50 - base.p50)} | ${signed(p99 - base.p99)} |`,
    ),
  ].join('\n')
}

/** POSTs a one-token chat and resolves at the first byte of the body; reads the rest, checks it ended. */
export function timeToFirstByte(url: string, headers: Record<string, string>): Promise<number> {
  const payload = JSON.stringify({ messages: [{ role: 'user', content: 'burst:1' }] })
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/api/chat`,
      { method: 'POST', agent: false, headers: { 'Content-Type': 'application/json', ...headers } },
      (res) => {
        if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`))
        let first: number | undefined
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (text: string) => {
          first ??= performance.now() - started
          body += text
        })
        res.on('end', () =>
          body.includes('event: done') ? resolve(first!) : reject(new Error('the answer did not finish')),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}
