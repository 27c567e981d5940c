import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { build } from 'esbuild'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { TestUpstream, testModels } from './upstream-server'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * A real `useChat` app (`@ai-sdk/react` 4.0.177 with `ai` 7.0.173, bundled here and served from
 * its own origin, so the gateway is cross-origin to it) in Debian's Chromium, against `wrangler
 * dev` and the loopback upstream. No timing assertions: the upstream is gated or stalled.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

let upstream: TestUpstream
let gateway: WranglerDev
let browser: Browser
let page: Page
let site: Server

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [new URL('./ui-chat-page/app.ts', import.meta.url).pathname],
    bundle: true,
    format: 'esm',
    minify: true,
    write: false,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  })
  site = await serveApp(bundle.outputFiles[0]!.text)
  upstream = new TestUpstream()
  const upstreamUrl = await upstream.start()
  gateway = await startWranglerDev({
    DEFAULT_MODEL: 'upstream',
    MODELS: testModels(upstreamUrl),
    ANONYMOUS_MODELS: 'upstream, demo',
    HEARTBEAT_MS: '1000',
    CORS_ALLOWED_ORIGINS: originOf(site),
  })
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic'],
  })
})

afterAll(async () => {
  await browser?.close()
  await gateway?.stop()
  await upstream?.stop()
  site?.close()
})

beforeEach(async () => {
  await page?.close()
  page = await browser.newPage()
})

async function serveApp(script: string): Promise<Server> {
  const html = '<!doctype html><meta charset="utf-8"><div id="root"></div><script type="module" src="/app.js"></script>'
  const server = createServer((req, res) => {
    const isScript = req.url === '/app.js'
    res.writeHead(200, { 'Content-Type': isScript ? 'text/javascript' : 'text/html; charset=utf-8' })
    res.end(isScript ? script : html)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return server
}

const originOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`

let chats = 0
async function openApp() {
  const chatId = `browser-${process.pid}-${++chats}`
  await page.goto(`${originOf(site)}/?gateway=${encodeURIComponent(gateway.url)}&chat=${chatId}`)
  await page.locator('#status', { hasText: 'ready' }).waitFor()
  return chatId
}

async function say(text: string) {
  await page.fill('#prompt', text)
  await page.click('#send')
}

const assistant = () => page.locator('.message.assistant')
const statusText = () => page.locator('#status').textContent()

describe('a useChat app on another origin', () => {
  it('streams an answer from the Worker: tokens show while the upstream holds the rest', async () => {
    await openApp()
    await say('gated')
    await page.locator('.message.assistant[data-state="streaming"]', { hasText: 'First' }).waitFor()
    expect(await statusText()).toBe('streaming')
    upstream.releaseGate()
    await page.locator('.message.assistant[data-state="done"]').waitFor()
    expect(await assistant().textContent()).toBe('First and the rest.')
    await page.locator('#status', { hasText: 'ready' }).waitFor()
  })

  it('survives a reload mid-answer with resume: true, each token once', async () => {
    await openApp()
    const abandoned = upstream.abandonedAnswers
    await say('gated')
    await page.locator('.message.assistant', { hasText: 'First' }).waitFor()
    await page.reload()
    // On mount, useChat asks the gateway for the chat's active answer and replays it.
    await page.locator('.message.assistant[data-state="streaming"]', { hasText: 'First' }).waitFor()
    upstream.releaseGate()
    await page.locator('.message.assistant[data-state="done"]').waitFor()
    expect(await assistant().allTextContents()).toEqual(['First and the rest.'])
    expect(await page.locator('.message.user').allTextContents()).toEqual(['gated'])
    await page.locator('#status', { hasText: 'ready' }).waitFor()
    // The reload did not cancel the answer: the upstream finished it.
    expect(upstream.abandonedAnswers).toBe(abandoned)
    // Reloading once it is over resumes nothing, and adds nothing.
    await page.reload()
    await page.locator('#status', { hasText: 'ready' }).waitFor()
    expect(await assistant().allTextContents()).toEqual(['First and the rest.'])
  })

  it('Stop calls the stop endpoint beside stop(): the upstream connection closes', async () => {
    await openApp()
    const abandoned = upstream.abandonedAnswers
    await say('stall')
    await page.locator('.message.assistant', { hasText: 'Thinking' }).waitFor()
    await page.click('#stop')
    await upstream.until(() => upstream.abandonedAnswers > abandoned && upstream.openAnswers === 0)
    await page.locator('#status', { hasText: 'ready' }).waitFor()
    expect(await assistant().getAttribute('data-state')).toBe('streaming')
    // Stopped for good: a reload finds no answer to resume.
    await page.reload()
    await page.locator('#status', { hasText: 'ready' }).waitFor()
    expect(await assistant().textContent()).toBe('Thinking')
  })

  it('shows a failed upstream as an error, never as a finished answer', async () => {
    await openApp()
    await say('truncate')
    await page.locator('#status', { hasText: 'error' }).waitFor()
    expect(await page.locator('#error').textContent()).toMatch(/./)
    expect(await assistant().getAttribute('data-state')).toBe('streaming')
  })
})
