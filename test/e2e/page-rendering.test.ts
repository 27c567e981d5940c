import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { CANNED_ANSWERS, longAnswerToken } from './canned-answers'
import { TestUpstream, testModels } from './upstream-server'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * How the chat page renders answers, in a real browser (Debian's Chromium, driven by
 * playwright-core) against `wrangler dev` and the loopback upstream: Markdown, untrusted model
 * output, long answers, reasoning and attached images. No timing assertions.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const LONG_ANSWER_TOKENS = 4000

let upstream: TestUpstream
let gateway: WranglerDev
let browser: Browser
let page: Page

beforeAll(async () => {
  upstream = new TestUpstream()
  gateway = await startWranglerDev({
    DEFAULT_MODEL: 'upstream',
    MODELS: testModels(await upstream.start()),
    ANONYMOUS_MODELS: 'upstream, demo',
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
})

beforeEach(async () => {
  await page?.close()
  page = await browser.newPage()
})

const lastAnswer = () => page.locator('.message.assistant').last()

async function openChat() {
  await page.goto(gateway.url)
  await expect.poll(() => page.locator('#model option').count(), { timeout: 15_000 }).toBeGreaterThan(1)
  await page.selectOption('#model', 'upstream')
}

async function say(text: string) {
  await page.fill('#prompt', text)
  await page.keyboard.press('Enter')
}

describe('answers on the chat page', () => {
  it('render as Markdown: a heading, a list, a table and a code block whose Copy button copies it', async () => {
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: gateway.url })
    await openChat()
    await say('canned:markdown')
    await page.locator('.message.assistant[data-state="finished"]').waitFor()
    const answer = lastAnswer().locator('.text')

    expect(await answer.locator('h2').textContent()).toBe('Fruit report')
    expect(await answer.locator('ul > li').allTextContents()).toEqual(['apples', 'pears', 'plums'])
    expect(await answer.locator('table th').allTextContents()).toEqual(['Fruit', 'Colour'])
    expect(await answer.locator('table tbody td').allTextContents()).toEqual(['apple', 'red', 'pear', 'green'])
    expect(await answer.locator('strong').textContent()).toBe('all')
    // HTML inside a code block is shown as written, not rendered.
    const code = answer.locator('.code-block code')
    const source = "const answer = 6 * 7\nconsole.log('<b>not bold</b>', answer)"
    expect((await code.textContent())?.trimEnd()).toBe(source)
    expect(await answer.locator('.code-block .code-bar span').textContent()).toBe('ts')
    expect(await answer.locator('b').count()).toBe(0)

    await answer.locator('.code-block button.copy').click()
    await expect.poll(() => answer.locator('.code-block button.copy').textContent()).toBe('Copied')
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(source)
  })

  it('never run script from model output, and still show its text', async () => {
    const attempts: string[] = []
    await page.exposeFunction('pwned', (where: string) => attempts.push(where))
    page.on('dialog', (dialog) => attempts.push(`dialog: ${dialog.message()}`))
    // The page's Content-Security-Policy would block a handler that got past the sanitizer, so a
    // blocked attempt counts as a failure too: it means markup reached the page that should not have.
    await page.addInitScript(() => {
      const log: string[] = ((window as unknown as { violations: string[] }).violations = [])
      document.addEventListener('securitypolicyviolation', (e) => log.push(`${e.violatedDirective} ${e.blockedURI}`))
    })
    await openChat()
    const pageUrl = page.url()
    await say('canned:hostile')
    await page.locator('.message.assistant[data-state="finished"]').waitFor()
    const answer = lastAnswer().locator('.text')

    // Nothing that can run script or load anything is in the answer.
    const dangerous = 'script, iframe, img, svg, object, embed, details, style, link, meta, form, [srcdoc]'
    expect(await answer.locator(dangerous).count()).toBe(0)
    const handlers = await answer.evaluate((root) =>
      [...root.querySelectorAll('*')].flatMap((el) => el.getAttributeNames().filter((name) => name.startsWith('on'))),
    )
    expect(handlers).toEqual([])
    const links = await answer
      .locator('a')
      .evaluateAll((found) => found.map((a) => [a.textContent, a.getAttribute('href')]))
    // Every link the model wrote is still there as text, with no address to follow.
    expect(links).toEqual([
      ['a markdown link', null],
      ['Image: an image', null],
      ['a data link', null],
      ["javascript:pwned('autolink')", null],
      ['a reference link', null],
      ['a spaced link', null],
    ])
    for (const [text] of links) await answer.getByText(text!, { exact: true }).click()

    // The text is all still shown: raw HTML as written, the code block exactly.
    const shown = (await answer.textContent()) ?? ''
    for (const line of [
      'Plain text before.',
      `<img src=x onerror="pwned('img onerror')">`,
      `<script>pwned('script')</script>`,
      `An inline <img src=y onerror=pwned('inline img')> in a sentence`,
      `<iframe srcdoc="<script>parent.pwned('srcdoc')</script>"></iframe>`,
      `<u onmouseover="pwned('inline handler')">hover</u>`,
      `<b onmouseover="pwned('codespan')">bold?</b>`,
      'Plain text after.',
    ]) {
      expect(shown).toContain(line)
    }
    const fence = CANNED_ANSWERS.hostile.match(/```html\n([^`]*)```/)![1]!
    expect(await answer.locator('.code-block code').textContent()).toBe(fence)

    // Let anything that was going to fire (an image's error, a frame's load) have its turn.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 100))))
    expect(attempts).toEqual([])
    expect(await page.evaluate(() => (window as unknown as { violations: string[] }).violations)).toEqual([])
    expect(page.url()).toBe(pageUrl)
  })

  // Its wait for the end allows 60 s (a loaded CI machine streams 4,000 events slowly); so does the test.
  it(
    `keeps up with a ${LONG_ANSWER_TOKENS}-token answer streamed as fast as the upstream can`,
    { timeout: 90_000 },
    async () => {
      // For scale: the same answer read by a bare client in Node, which renders nothing.
      const response = await fetch(`${gateway.url}/api/chat`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: `tokens:${LONG_ANSWER_TOKENS}` }] }),
      })
      const raw = await response.text()
      const bareLag = Date.now() - upstream.lastByteAt
      expect(raw).toContain('event: done')

      await openChat()
      // Note when the page first shows the answer as finished (the final text is rendered by then).
      await page.evaluate(() => {
        new MutationObserver((_, observer) => {
          if (!document.querySelector('.message.assistant[data-state="finished"]')) return
          ;(window as unknown as { finishedAt: number }).finishedAt = Date.now()
          observer.disconnect()
        }).observe(document.getElementById('conversation')!, { subtree: true, attributeFilter: ['data-state'] })
      })
      await say(`tokens:${LONG_ANSWER_TOKENS}`)
      await page.locator('.message.assistant[data-state="finished"]').waitFor({ timeout: 60_000 })

      const answer = lastAnswer().locator('.text')
      const source = Array.from({ length: LONG_ANSWER_TOKENS }, (_, i) => longAnswerToken(i)).join('')
      expect(await answer.locator('p').allTextContents()).toEqual(source.split('\n\n'))
      const renders = Number(await answer.getAttribute('data-renders'))
      const finishedAt = await page.evaluate(() => (window as unknown as { finishedAt: number }).finishedAt)
      console.log(
        `${LONG_ANSWER_TOKENS} tokens: the page showed the final text ${finishedAt - upstream.lastByteAt} ms ` +
          `after the upstream's last byte, in ${renders} renders (a bare client read its end after ${bareLag} ms)`,
      )
      expect(renders).toBeGreaterThan(0)
      expect(renders).toBeLessThan(LONG_ANSWER_TOKENS)
    },
  )

  it('shows an upstream’s reasoning_content, through the gateway, in the thinking section above the answer', async () => {
    await openChat()
    await say('reasoning')
    await page.locator('.message.assistant[data-state="finished"]').waitFor()
    const answer = lastAnswer()
    expect(await answer.locator('details.reasoning').textContent()).toContain(
      'The user wants a number. Six times seven is 42.',
    )
    expect(await answer.locator('.text').textContent()).toBe('42')
  })

  it('show reasoning in a collapsed "thinking" section above the answer, kept out of the history', async () => {
    // The page's POST to /api/streams is answered in the page by a stream the test writes to,
    // event by event, as the gateway sends them, so each event's effect can be seen on its own.
    // The page and its client module are the real ones.
    await page.addInitScript(() => {
      const feed = window as unknown as FeedWindow
      const realFetch = window.fetch
      feed.chatRequests = []
      window.fetch = async (input, init) => {
        if (!String(input).endsWith('/api/streams') || init?.method !== 'POST') return realFetch(input, init)
        feed.chatRequests.push(JSON.parse(String(init?.body)))
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            let id = 0
            feed.sendEvent = (event, data) =>
              controller.enqueue(
                new TextEncoder().encode(`id: ${++id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`),
              )
            feed.endStream = () => controller.close()
          },
        })
        const Location = `${location.origin}/api/streams/AAAAAAAAAAAAAAAAAAAAAAAA`
        return new Response(body, { headers: { 'Content-Type': 'text/event-stream', Location } })
      }
    })
    const send = (event: string, data: object) =>
      page.evaluate(([e, d]) => (window as unknown as FeedWindow).sendEvent(e, d), [event, data] as const)
    await openChat()
    await say('think first')
    const answer = lastAnswer()
    const thinking = answer.locator('details.reasoning')
    const summary = () => thinking.locator('summary').textContent()

    await expect.poll(() => page.evaluate(() => typeof (window as unknown as FeedWindow).sendEvent)).toBe('function')
    await send('start', { id: 'chat-1', model: 'upstream', upstream: 'upstream', created: 1 })
    expect(await answer.getAttribute('data-state')).toBe('waiting')
    await send('reasoning', { text: 'Let me think' })
    await expect.poll(summary).toBe('Thinking…')
    expect(await answer.getAttribute('data-state')).toBe('streaming')
    await send('reasoning', { text: ' about <b>this</b>.' })
    await send('delta', { text: 'The answer ' })
    await expect.poll(summary).toBe('Thoughts')
    await send('reasoning', { text: ' A second thought.' })
    await expect.poll(summary).toBe('Thinking…')
    await send('tool_call', { index: 0, id: 'call_1', name: 'lookup', arguments_delta: '{}' })
    await send('delta', { text: 'is **42**.' })
    await send('usage', { prompt_tokens: 3, completion_tokens: 9, total_tokens: 12 })
    await send('done', { finish_reason: 'stop' })
    await page.locator('.message.assistant[data-state="finished"]').waitFor()

    expect(await answer.evaluate((item) => [...item.children].map((child) => child.className))).toEqual([
      'reasoning',
      'text markdown',
      'working',
      'state',
      'actions',
    ])
    expect(await summary()).toBe('Thoughts')
    expect(await thinking.locator('.reasoning-text').textContent()).toBe(
      'Let me think about <b>this</b>. A second thought.',
    )
    expect(await thinking.locator('b').count()).toBe(0)
    expect(await thinking.evaluate((details: HTMLDetailsElement) => details.open)).toBe(false)
    expect(await thinking.locator('.reasoning-text').isVisible()).toBe(false)
    await thinking.locator('summary').click()
    expect(await thinking.locator('.reasoning-text').isVisible()).toBe(true)
    expect(await answer.locator('.text').textContent()).toBe('The answer is 42.')
    expect(await answer.locator('.text strong').textContent()).toBe('42')

    await say('and then?')
    await expect.poll(() => page.evaluate(() => (window as unknown as FeedWindow).chatRequests.length)).toBe(2)
    expect(await page.evaluate(() => (window as unknown as FeedWindow).chatRequests[1]!.messages)).toEqual([
      { role: 'user', content: 'think first' },
      { role: 'assistant', content: 'The answer is **42**.' },
      { role: 'user', content: 'and then?' },
    ])
  })

  it('send an attached image as OpenAI content parts and show its thumbnail in the message', async () => {
    const png = Buffer.from(ONE_PIXEL_PNG, 'base64')
    const dataUrl = `data:image/png;base64,${ONE_PIXEL_PNG}`
    await openChat()
    await page.setInputFiles('#image', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hi') })
    await expect.poll(() => page.locator('#notice').textContent()).toContain('not an image')
    expect(await page.locator('#attachment').isHidden()).toBe(true)

    await page.setInputFiles('#image', { name: 'dot.png', mimeType: 'image/png', buffer: png })
    await page.locator('#attachment img').waitFor()
    expect(await page.locator('#attachment img').getAttribute('src')).toBe(dataUrl)
    const sent = page.waitForRequest((request) => request.url().endsWith('/api/streams'))
    await say('what is in this picture?')
    expect((await sent).postDataJSON().messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'what is in this picture?' },
          { type: 'image_url', image_url: { url: dataUrl } },
        ],
      },
    ])
    const thumbnail = page.locator('.message.user img.attached-image')
    expect(await thumbnail.getAttribute('src')).toBe(dataUrl)
    expect(await thumbnail.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(1)
    expect(await page.locator('#attachment').isHidden()).toBe(true)
    // The gateway carries the image to the upstream as the same part, and the answer finishes.
    await page.locator('.message.assistant[data-state="finished"]').waitFor()
    expect(upstream.requests.at(-1)!.body.messages.at(-1)!.content).toEqual([
      { type: 'text', text: 'what is in this picture?' },
      { type: 'image_url', image_url: { url: dataUrl } },
    ])

    // The next message goes without the image unless one is attached again.
    await page.setInputFiles('#image', { name: 'dot.png', mimeType: 'image/png', buffer: png })
    await page.locator('#attachment img').waitFor()
    await page.click('#attachment button')
    expect(await page.locator('#attachment').isHidden()).toBe(true)
  })
})

const ONE_PIXEL_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='

interface FeedWindow {
  chatRequests: Array<{ messages: unknown[] }>
  sendEvent(event: string, data: object): void
  endStream(): void
}
