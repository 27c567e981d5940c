import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { build } from 'esbuild'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { CuttingProxy } from './cutting-proxy'
import { TestUpstream, testModels } from './upstream-server'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * The chat page and the client module in a real browser (Debian's Chromium, driven by
 * playwright-core), against `wrangler dev` and the loopback upstream. No timing assertions: the
 * upstream is gated or stalled where order matters.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

let upstream: TestUpstream
let gateway: WranglerDev
let browser: Browser
let page: Page
let allowedSite: Server
let otherSite: Server

beforeAll(async () => {
  const client = await build({
    entryPoints: [new URL('../../src/client/index.ts', import.meta.url).pathname],
    bundle: true,
    format: 'esm',
    write: false,
  })
  allowedSite = await serveFrontend(client.outputFiles[0]!.text)
  otherSite = await serveFrontend(client.outputFiles[0]!.text)
  upstream = new TestUpstream()
  const upstreamUrl = await upstream.start()
  gateway = await startWranglerDev({
    DEFAULT_MODEL: 'upstream',
    MODELS: testModels(upstreamUrl),
    // The page calls without credentials; the upstream model is not a demo model, so open it here.
    ANONYMOUS_MODELS: 'upstream, demo',
    HEARTBEAT_MS: '1000',
    RETRY_MS: '200',
    CORS_ALLOWED_ORIGINS: originOf(allowedSite),
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
  allowedSite?.close()
  otherSite?.close()
})

beforeEach(async () => {
  await page?.close()
  page = await browser.newPage()
})

/** A frontend on its own origin: a page that streams from the gateway with the client module. */
async function serveFrontend(clientModule: string): Promise<Server> {
  const html = `<!doctype html><script type="module">
    import { streamChat } from '/client.js'
    window.ask = async (baseUrl, content) => {
      let text = ''
      try {
        for await (const e of streamChat({ messages: [{ role: 'user', content }] }, { baseUrl })) {
          if (e.event === 'delta') text += e.data.text
        }
        return { ok: true, text }
      } catch (error) {
        return { ok: false, kind: error.kind ?? error.name, text }
      }
    }
  </script>`
  const server = createServer((req, res) => {
    const isModule = req.url === '/client.js'
    res.writeHead(200, { 'Content-Type': isModule ? 'text/javascript' : 'text/html' })
    res.end(isModule ? clientModule : html)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return server
}

const originOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`
const lastAnswer = () => page.locator('.message.assistant').last()

async function openChat(model = 'upstream') {
  await page.goto(gateway.url)
  await expect.poll(() => page.locator('#model option').count(), { timeout: 15_000 }).toBeGreaterThan(1)
  await page.selectOption('#model', model)
}

async function say(text: string) {
  await page.fill('#prompt', text)
  await page.keyboard.press('Enter')
}

describe('the chat page', () => {
  it('shows tokens as they arrive, while the upstream still holds the rest', async () => {
    await openChat()
    await say('gated')
    await page.locator('.message.assistant[data-state="streaming"]', { hasText: 'First' }).waitFor()
    expect(await lastAnswer().getAttribute('data-state')).toBe('streaming')
    upstream.releaseGate()
    await page.locator('.message.assistant[data-state="finished"]').waitFor()
    expect(await lastAnswer().locator('.text').textContent()).toBe('First and the rest.')
  })

  it('Stop closes the upstream connection and shows the answer as stopped', async () => {
    await openChat()
    const abandoned = upstream.abandonedAnswers
    await say('stall')
    await page.locator('.message.assistant', { hasText: 'Thinking' }).waitFor()
    await page.click('#stop')
    await page.locator('.message.assistant[data-state="stopped"]').waitFor()
    await upstream.until(() => upstream.openAnswers === 0 && upstream.abandonedAnswers > abandoned)
    expect(await page.locator('#status').textContent()).toContain('Stopped')
  })

  it.each(['reset', 'truncate', 'malformed'])('shows a %s upstream as failed, never finished', async (scenario) => {
    await openChat()
    await say(scenario)
    await page.locator('.message.assistant[data-state="failed"]').waitFor()
    expect(await page.locator('.message.assistant[data-state="finished"]').count()).toBe(0)
    expect(await lastAnswer().locator('.state').textContent()).toContain('incomplete')
  })

  it('sends the first turn’s history with the second turn', async () => {
    await openChat()
    await say('first question')
    await page.locator('.message.assistant[data-state="finished"]').waitFor()
    await say('second question')
    await expect.poll(() => page.locator('.message.assistant[data-state="finished"]').count()).toBe(2)
    expect(upstream.requests.at(-1)!.body.messages).toEqual([
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'echo: first question' },
      { role: 'user', content: 'second question' },
    ])
  })

  it('streams the demo model with no upstream at all, keyboard only', async () => {
    await openChat('demo')
    await page.focus('#prompt')
    await page.keyboard.type('Hello demo')
    await page.keyboard.press('Enter')
    await page.locator('.message.assistant[data-state="finished"]').waitFor()
    expect(await lastAnswer().locator('.text').textContent()).toContain('Hello demo')
  })
})

describe('cross-origin use', () => {
  it('a page on an allowed origin can stream from the Worker', async () => {
    await page.goto(originOf(allowedSite))
    const result = await page.evaluate(
      ([url]) => (window as never as Ask).ask(url!, 'cross-origin hello'),
      [gateway.url],
    )
    expect(result).toEqual({ ok: true, text: 'echo: cross-origin hello' })
  })

  it('a page on any other origin cannot, and costs no upstream call', async () => {
    const calls = upstream.requests.length
    await page.goto(originOf(otherSite))
    const result = await page.evaluate(([url]) => (window as never as Ask).ask(url!, 'sneaky'), [gateway.url])
    expect(result).toMatchObject({ ok: false, kind: 'network', text: '' })
    expect(upstream.requests.length).toBe(calls)
  })
})

interface Ask {
  ask(baseUrl: string, content: string): Promise<{ ok: boolean; text: string; kind?: string }>
}

describe('resumable streams in the browser', () => {
  it('a dropped connection shows "reconnecting", then the answer carries on where it broke off', async () => {
    // The page comes through a TCP proxy, so the test can cut its connections as a network would.
    const proxy = new CuttingProxy(Number(new URL(gateway.url).port))
    const proxied = await proxy.start()
    try {
      await page.goto(proxied)
      await expect.poll(() => page.locator('#model option').count(), { timeout: 15_000 }).toBeGreaterThan(1)
      await page.selectOption('#model', 'upstream')
      await say('gated')
      await page.locator('.message.assistant[data-state="streaming"]', { hasText: 'First' }).waitFor()
      proxy.cutAll()
      await page.locator('.message.assistant[data-state="reconnecting"]').waitFor()
      upstream.releaseGate()
      await page.locator('.message.assistant[data-state="finished"]').waitFor()
      expect(await lastAnswer().locator('.text').textContent()).toBe('First and the rest.')
    } finally {
      proxy.stop()
    }
  })

  it('reloading mid-answer shows the answer so far and continues it, each token once', async () => {
    await openChat()
    const abandoned = upstream.abandonedAnswers
    await say('gated')
    await page.locator('.message.assistant[data-state="streaming"]', { hasText: 'First' }).waitFor()
    await page.reload()
    await page.locator('.message.assistant[data-state="streaming"]', { hasText: 'First' }).waitFor()
    upstream.releaseGate()
    await page.locator('.message.assistant[data-state="finished"]').waitFor()
    expect(await lastAnswer().locator('.text').textContent()).toBe('First and the rest.')
    expect(await page.locator('.message.user .text').allTextContents()).toEqual(['gated'])
    expect(await page.locator('.message.assistant').count()).toBe(1)
    // Leaving the page did not cancel the answer: the upstream finished it.
    expect(upstream.abandonedAnswers).toBe(abandoned)
  })

  it('the seed flow with nothing but the browser: fetch POST for the id, then its own EventSource', async () => {
    await page.goto(gateway.url)
    const result = await page.evaluate(async () => {
      const response = await fetch('/api/streams', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hello from EventSource' }] }),
      })
      const { url } = (await response.json()) as { url: string }
      return new Promise<{ text: string; ids: string[]; end: string }>((resolve) => {
        const source = new EventSource(url)
        const ids: string[] = []
        let text = ''
        source.addEventListener('delta', (event) => {
          text += JSON.parse(event.data).text
          ids.push(event.lastEventId)
        })
        source.addEventListener('done', () => {
          source.close()
          resolve({ text, ids, end: 'done' })
        })
        // Our `error` event carries data; the EventSource's own connection errors do not.
        source.addEventListener('error', (event) => {
          if (!(event instanceof MessageEvent)) return
          source.close()
          resolve({ text, ids, end: `error ${event.data}` })
        })
      })
    })
    expect(result).toMatchObject({ text: 'echo: hello from EventSource', end: 'done' })
    expect(result.ids).toEqual(['2'])
  })

  it('an EventSource left open stops reconnecting once it has the terminal event (204)', async () => {
    await page.goto(gateway.url)
    const result = await page.evaluate(async () => {
      const response = await fetch('/api/streams', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'left open' }] }),
      })
      const { url } = (await response.json()) as { url: string }
      const source = new EventSource(url)
      let opens = 0
      let dones = 0
      source.addEventListener('open', () => opens++)
      source.addEventListener('done', () => dones++)
      // The server closes after `done`; the EventSource reconnects once, gets 204, and gives up.
      while (source.readyState !== EventSource.CLOSED) await new Promise((resolve) => setTimeout(resolve, 50))
      return { opens, dones }
    })
    expect(result).toEqual({ opens: 1, dones: 1 })
  })
})
