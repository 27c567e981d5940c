import { mkdirSync } from 'node:fs'
import axe from 'axe-core'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, afterEach, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { TestUpstream } from './upstream-server'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * The chat page as a product, in Debian's Chromium (playwright-core) against `wrangler dev`: the
 * layout at phone and desktop widths in both colour schemes, axe-core on every view, keyboard
 * use, errors, chats kept in the browser, API keys and the demo model's Markdown. Screenshots of
 * each view go to test-results/screenshots/ for a reviewer. No timing assertions: the upstream
 * is gated or stalled where order matters.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const SCREENSHOTS = new URL('../../test-results/screenshots/', import.meta.url).pathname
const VIEWPORTS = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 800 } } as const
type Viewport = keyof typeof VIEWPORTS
type Scheme = 'light' | 'dark'

const key = generateApiKey()
/** A key for the demo model only: the picker marks the others as not available with it. */
const demoKey = generateApiKey()
let upstream: TestUpstream
let gateway: WranglerDev
let browser: Browser
let context: BrowserContext
let page: Page

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true })
  upstream = new TestUpstream()
  const upstreamUrl = await upstream.start()
  gateway = await startWranglerDev({
    DEFAULT_MODEL: 'demo',
    MODELS: JSON.stringify({
      demo: { adapter: 'demo', token_delay_ms: 1 },
      'demo-flaky': { adapter: 'demo', token_delay_ms: 1, fail_after_tokens: 12 },
      upstream: { adapter: 'openai', base_url: upstreamUrl, upstream_model: 'test-model' },
      // Configured, but not for anonymous callers: the page must show it as needing a key.
      keyed: { adapter: 'openai', base_url: upstreamUrl, upstream_model: 'test-model' },
      // Its API key is not set on the gateway: it could only fail, so the picker leaves it out.
      unconfigured: { adapter: 'openai', base_url: upstreamUrl, upstream_model: 'x', api_key_secret: 'NOT_SET_KEY' },
    }),
    ANONYMOUS_MODELS: 'demo, demo-flaky, upstream',
    API_KEYS: JSON.stringify({
      'page-user': { sha256: await hashApiKey(key), models: ['*'] },
      'demo-user': { sha256: await hashApiKey(demoKey), models: ['demo'] },
    }),
    HEARTBEAT_MS: '1000',
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

afterEach(async () => {
  await context?.close()
})

async function open(viewport: Viewport = 'desktop', colorScheme: Scheme = 'light') {
  context = await browser.newContext({ viewport: VIEWPORTS[viewport], colorScheme })
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: gateway.url })
  page = await context.newPage()
  await page.goto(gateway.url)
  await expect.poll(() => page.locator('#model option').count(), { timeout: 15_000 }).toBeGreaterThan(1)
}

async function say(text: string) {
  await page.fill('#prompt', text)
  await page.keyboard.press('Enter')
}

const lastAnswer = () => page.locator('.message.assistant').last()
/** Waits until the last answer is in `state` and the composer can send again. */
async function ended(state: string) {
  await page.locator(`.message.assistant[data-state="${state}"]`).last().waitFor()
  await page.locator('#send').waitFor()
}

/** axe-core's serious and critical findings on the page as it is now (run through CDP, past the CSP). */
async function seriousViolations(): Promise<string[]> {
  await page.evaluate(axe.source)
  const results = await page.evaluate(() =>
    (window as unknown as { axe: typeof axe }).axe.run(document, { resultTypes: ['violations'] }),
  )
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
}

const screenshot = (name: string) => page.screenshot({ path: `${SCREENSHOTS}${name}.png` })

/**
 * Requests that failed or were cancelled, and `/api/streams` POSTs that completed, from now on:
 * a finished answer must leave nothing failed behind in the network log.
 */
function watchRequests() {
  const failed: string[] = []
  const finished: string[] = []
  page.on('requestfailed', (r) => failed.push(`${r.method()} ${new URL(r.url()).pathname}: ${r.failure()?.errorText}`))
  page.on('requestfinished', (r) => finished.push(`${r.method()} ${new URL(r.url()).pathname}`))
  return { failed, finished }
}

/** The working indicator under the last answer, if shown. */
const workingText = () =>
  lastAnswer()
    .locator('.working:visible')
    .textContent({ timeout: 100 })
    .catch(() => null)

/** Whether the page is wider than the window anywhere (it never should be). */
const pageOverflow = () => page.evaluate(() => document.documentElement.scrollWidth - innerWidth)
const distanceFromEnd = () =>
  page.locator('#scroller').evaluate((s) => Math.round(s.scrollHeight - s.scrollTop - s.clientHeight))

describe.each(['phone', 'desktop'] as const)('at %s width', (viewport) => {
  describe.each(['light', 'dark'] as const)('in the %s scheme', (scheme) => {
    it('welcomes with example prompts, renders the demo model’s Markdown, and passes axe-core', async () => {
      await open(viewport, scheme)
      const requests = watchRequests()
      const examples = page.locator('#empty .examples button')
      expect(await examples.count()).toBeGreaterThanOrEqual(3)
      expect(await seriousViolations()).toEqual([])
      await screenshot(`${viewport}-${scheme}-empty`)

      const longUrl = `https://example.com/${'a-very-long-path-segment/'.repeat(12)}`
      await say(`Show me everything you render ${longUrl} ${'x'.repeat(120)}`)
      await ended('finished')
      expect(await page.locator('#empty').isVisible()).toBe(false)
      const answer = lastAnswer().locator('.markdown')
      expect(await answer.locator('h2').textContent()).toBe('How this answer travelled')
      expect(await answer.locator('ul > li').count()).toBe(3)
      expect(await answer.locator('table td').allTextContents()).toContain('Completion tokens')
      expect(await answer.locator('table code').first().textContent()).toBe('demo')
      // The curl is highlighted by the lazily loaded chunk: its quoted JSON is a string token.
      await answer.locator('.code-block code .hljs-string').first().waitFor()
      // The curl names the origin the page came from, not `npm run dev`'s localhost:8787.
      expect(await answer.locator('.code-block code').textContent()).toContain(`curl -N ${gateway.url}/api/chat`)
      // Under the answer: what answered, its tokens and its time, from the stream's start and usage.
      expect(await lastAnswer().locator('.answer-facts').textContent()).toMatch(/^demo · [\d,]+ tokens · \d+\.\d s$/)
      // The finished answer's POST completed: nothing cancelled or failed in the network log.
      await expect.poll(() => requests.finished).toContain('POST /api/streams')
      expect(requests.failed).toEqual([])

      // Long words, URLs, the table and the code block stay inside their own blocks.
      expect(await pageOverflow()).toBeLessThanOrEqual(0)
      for (const block of await page.locator('.message').all()) {
        expect(await block.evaluate((b) => b.scrollWidth - b.clientWidth)).toBeLessThanOrEqual(0)
      }
      // The composer stays in view at the bottom, the end of the answer just above it.
      const composer = (await page.locator('#composer').boundingBox())!
      expect(composer.y + composer.height).toBeLessThanOrEqual(VIEWPORTS[viewport].height)
      expect(await distanceFromEnd()).toBeLessThanOrEqual(24)
      expect(await seriousViolations()).toEqual([])
      await screenshot(`${viewport}-${scheme}-answer`)
    })

    it('shows the model working, a failed answer, a refusal in plain words and the key dialog (axe-core)', async () => {
      await open(viewport, scheme)
      // Through a silence after the first token: "Still working…", with the seconds once they count.
      await page.selectOption('#model', 'upstream')
      await say('gated')
      await expect.poll(workingText, { timeout: 10_000 }).toMatch(/^Still working… \d+ s$/)
      expect(await page.locator('#status').textContent()).toBe('The model is working on the answer.')
      expect(await seriousViolations()).toEqual([])
      await screenshot(`${viewport}-${scheme}-working`)
      upstream.releaseGate()
      await ended('finished')
      expect(await workingText()).toBeNull()

      await page.selectOption('#model', 'demo-flaky')
      await say('fail on purpose')
      await ended('failed')

      // The composer says a message is too long before it is sent, and does not send it.
      await page.selectOption('#model', 'demo')
      await page.fill('#prompt', 'x'.repeat(40_000))
      const warning = page.locator('#composer-warning')
      expect(await warning.textContent()).toBe(
        'This message is 40,000 characters; the limit is 32,768. Shorten it to send it.',
      )
      expect(await page.getAttribute('#prompt', 'aria-invalid')).toBe('true')
      const messages = await page.locator('.message').count()
      await page.keyboard.press('Enter')
      expect(await page.locator('.message').count()).toBe(messages)
      expect(await seriousViolations()).toEqual([])
      await screenshot(`${viewport}-${scheme}-too-long`)
      await page.fill('#prompt', '')
      expect(await warning.isHidden()).toBe(true)

      // Edited past the limit, the gateway refuses it: in a sentence, with no "Try again".
      await say('a short question')
      await ended('finished')
      await page.locator('.message.user .edit').last().click()
      await page.fill('.edit-form textarea', 'x'.repeat(40_000))
      await page.keyboard.press('Enter')
      await ended('refused')
      expect(await lastAnswer().locator('.state').textContent()).toBe(
        'Refused by the gateway; no answer was started. This message is 40,000 characters; the limit is 32,768.',
      )
      expect(await lastAnswer().locator('.regenerate').count()).toBe(0)
      // However tall the refused message, the view followed it to the refusal.
      expect(await distanceFromEnd()).toBeLessThanOrEqual(24)
      expect(await page.locator('#jump').isHidden()).toBe(true)
      expect(await seriousViolations()).toEqual([])
      await screenshot(`${viewport}-${scheme}-errors`)
      await page.selectOption('#model', 'keyed')
      await say('hello keyed')
      await page.locator('#settings[open]').waitFor()
      expect(await seriousViolations()).toEqual([])
      await screenshot(`${viewport}-${scheme}-key-dialog`)
    })

    it('folds a long message with “Show more”, and shows message actions without hover (axe-core)', async () => {
      await open(viewport, scheme)
      await page.selectOption('#model', 'upstream')
      const long = Array.from({ length: 40 }, (_, i) => `Line ${i + 1} of a pasted log`).join('\n')
      await say(long)
      await ended('finished')
      const question = page.locator('.message.user').last()
      const text = question.locator('.text')
      const toggle = question.getByRole('button', { name: 'Show more' })
      expect(await toggle.getAttribute('aria-expanded')).toBe('false')
      const folded = (await text.boundingBox())!.height
      await page.mouse.move(0, 0) // no hover anywhere
      // Edit and Show more are there without hover (touch has none): opaque, not hidden.
      for (const button of [toggle, question.locator('.edit')]) {
        expect(await button.isVisible()).toBe(true)
        expect(await button.evaluate((b) => getComputedStyle(b.parentElement!).opacity)).toBe('1')
      }
      // No empty row under the question: its buttons are all there is below the bubble.
      const bubble = (await question.locator('.bubble').boundingBox())!
      const actions = (await question.locator('.actions').boundingBox())!
      expect(actions.y - (bubble.y + bubble.height)).toBeLessThanOrEqual(8)
      expect(await seriousViolations()).toEqual([])
      await screenshot(`${viewport}-${scheme}-folded`)
      await toggle.click()
      expect(await question.getByRole('button', { name: 'Show less' }).getAttribute('aria-expanded')).toBe('true')
      expect((await text.boundingBox())!.height).toBeGreaterThan(folded * 2)
      expect(await seriousViolations()).toEqual([])
    })
  })
})

describe('following the answer', () => {
  it('follows a long answer to its end, stays put once the reader scrolls up, and offers to jump', async () => {
    await open('phone')
    await page.selectOption('#model', 'upstream')
    await say('tokens:600')
    await ended('finished')
    expect(await page.locator('#scroller').evaluate((s) => s.scrollHeight > 3 * s.clientHeight)).toBe(true)
    expect(await distanceFromEnd()).toBeLessThanOrEqual(24)
    expect(await page.locator('#jump').isHidden()).toBe(true)

    await say('gated')
    await page.locator('.message.assistant[data-state="streaming"]', { hasText: 'First' }).waitFor()
    // Stop is in view while the answer streams, on a phone, however long the conversation.
    const stop = (await page.locator('#stop').boundingBox())!
    expect(stop.y + stop.height).toBeLessThanOrEqual(VIEWPORTS.phone.height)
    await page.locator('#scroller').evaluate((s) => s.scrollTo({ top: 0 }))
    await page.locator('#jump').waitFor()
    upstream.releaseGate()
    await ended('finished')
    expect(await page.locator('#scroller').evaluate((s) => s.scrollTop)).toBe(0)
    await screenshot('phone-light-jump-to-latest')
    await page.click('#jump')
    expect(await distanceFromEnd()).toBeLessThanOrEqual(24)
    expect(await page.locator('#jump').isHidden()).toBe(true)
  })
})

describe('keyboard and screen readers', () => {
  it('Enter sends, Shift+Enter adds a line, Escape stops, and focus stays in the composer', async () => {
    await open()
    await page.selectOption('#model', 'upstream')
    await page.focus('#prompt')
    await page.keyboard.type('first line')
    await page.keyboard.press('Shift+Enter')
    await page.keyboard.type('stall')
    expect(await page.inputValue('#prompt')).toBe('first line\nstall')
    expect(await page.locator('.message').count()).toBe(0)
    await page.fill('#prompt', 'stall')
    await page.keyboard.press('Enter')
    await page.locator('.message.assistant', { hasText: 'Thinking' }).waitFor()
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('prompt')
    await page.keyboard.press('Escape')
    await ended('stopped')
    expect(await lastAnswer().locator('.state').textContent()).toContain('Stopped')
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('prompt')
    expect(await page.locator('#send').isVisible()).toBe(true)
    expect(await page.locator('#stop').isVisible()).toBe(false)
  })

  it('announces an answer once, when it ends, not every token', async () => {
    await open()
    await page.evaluate(() => {
      const w = window as unknown as { announcements: string[] }
      w.announcements = []
      const status = document.getElementById('status')!
      new MutationObserver(() => w.announcements.push(status.textContent ?? '')).observe(status, {
        childList: true,
        characterData: true,
        subtree: true,
      })
    })
    // The conversation itself is not a live region: only the status is.
    expect(await page.locator('[aria-live]').evaluateAll((found) => found.map((e) => e.id))).toEqual(['status'])
    await say('announce me')
    await ended('finished')
    const announcements = await page.evaluate(() => (window as unknown as { announcements: string[] }).announcements)
    // Once that the model is working (politely: the status is aria-live="polite"), once the answer.
    expect(announcements).toHaveLength(2)
    expect(announcements[0]).toBe('The model is working on the answer.')
    expect(announcements[1]).toMatch(/^Answer: You said: “announce me”/)
    expect(await page.getAttribute('#status', 'aria-live')).toBe('polite')

    // A new chat leaves nothing of the last one where a screen reader could still find it.
    await page.click('#new-chat')
    expect(await page.locator('#status').textContent()).toBe('')
  })

  it('shows “Working…” from sending until the first token, with the seconds after a few, and Enter on an empty composer does nothing', async () => {
    await open()
    // Enter with nothing typed: no message, and no browser "Please fill out this field".
    await page.focus('#prompt')
    await page.keyboard.press('Enter')
    expect(await page.locator('.message').count()).toBe(0)
    expect(await page.locator('#composer').evaluate((f: HTMLFormElement) => f.checkValidity())).toBe(true)

    await page.selectOption('#model', 'upstream')
    await say('no-headers') // the upstream never answers: the page waits for the first token
    await expect.poll(workingText).toBe('Working…')
    expect(await lastAnswer().getAttribute('data-state')).toBe('waiting')
    await expect.poll(workingText, { timeout: 10_000 }).toMatch(/^Working… \d+ s$/)
    // The ticking count is not read out every second: the status said it once.
    expect(await lastAnswer().locator('.working').getAttribute('aria-hidden')).toBe('true')
    await page.keyboard.press('Escape')
    await ended('stopped')
    expect(await workingText()).toBeNull()
  })
})

describe('errors', () => {
  it('says why a refused request was refused in words, and offers “Try again” only where it could help', async () => {
    await open()
    await page.selectOption('#model', 'upstream')
    await say('status:429')
    await ended('refused')
    // An upstream's rate limit may pass: asking again is offered.
    expect(await lastAnswer().locator('.state').textContent()).toBe(
      'Refused by the gateway; no answer was started. Too many requests just now. Wait a moment, then try again.',
    )
    expect(await lastAnswer().locator('.regenerate').textContent()).toBe('Try again')
  })

  it('shows a failed stream as failed and incomplete, with the gateway’s message', async () => {
    await open()
    await page.selectOption('#model', 'demo-flaky')
    await say('fail please')
    await ended('failed')
    const label = (await lastAnswer().locator('.state').textContent()) ?? ''
    expect(label).toContain('incomplete')
    // The demo fails as an upstream does mid-stream: the page shows the gateway's words, not the upstream's.
    expect(label).toContain('The model provider failed while answering; asking again may work.')
  })
})

describe('chats kept in the browser', () => {
  it(
    'New chat, titles from the first message, reopen with its model, rename and delete, across a reload',
    { timeout: 90_000 },
    async () => {
      await open()
      await page.selectOption('#model', 'upstream')
      await say('Plan a trip to Lisbon')
      await ended('finished')
      await page.click('#new-chat')
      expect(await page.locator('.message').count()).toBe(0)
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('prompt')
      await page.selectOption('#model', 'demo')
      await say('Second chat here')
      await ended('finished')
      expect(await page.locator('#chat-list .chat-open').allTextContents()).toEqual([
        'Second chat here',
        'Plan a trip to Lisbon',
      ])

      await page.reload()
      await ended('finished')
      expect(await page.locator('.message.user .text').allTextContents()).toEqual(['Second chat here'])
      await page.locator('#chat-list .chat-open', { hasText: 'Lisbon' }).click()
      expect(await page.locator('.message.assistant .markdown').textContent()).toBe('echo: Plan a trip to Lisbon')
      expect(await page.inputValue('#model')).toBe('upstream')
      expect(await page.locator('#chat-title').textContent()).toBe('Plan a trip to Lisbon')

      await page.getByRole('button', { name: 'Rename “Plan a trip to Lisbon”' }).click()
      await page.fill('.rename-field', 'Lisbon in May')
      await page.keyboard.press('Enter')
      expect(await page.locator('#chat-title').textContent()).toBe('Lisbon in May')
      await screenshot('desktop-light-chat-list')
      // Deleting asks in the page, not with the browser's confirm(); Escape keeps the chat.
      const dialogs: string[] = []
      page.on('dialog', (dialog) => void dialog.dismiss().then(() => dialogs.push(dialog.message())))
      const remove = page.getByRole('button', { name: 'Delete “Lisbon in May”' })
      await remove.click()
      expect(await page.locator('.confirm-question').textContent()).toBe('Delete “Lisbon in May”?')
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel')
      expect(await seriousViolations()).toEqual([])
      await screenshot('desktop-light-confirm-delete')
      await page.keyboard.press('Escape')
      expect(await page.locator('#chat-list .chat-open').allTextContents()).toEqual([
        'Second chat here',
        'Lisbon in May',
      ])
      expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(
        'Delete “Lisbon in May”',
      )
      await remove.click()
      await page.getByRole('button', { name: 'Delete', exact: true }).click()
      expect(dialogs).toEqual([])
      expect(await page.locator('#chat-list .chat-open').allTextContents()).toEqual(['Second chat here'])
      await page.reload()
      expect(await page.locator('#chat-list .chat-open').allTextContents()).toEqual(['Second chat here'])
    },
  )

  it('keeps stopped and failed answers, marked, across a reload, and leaves them out of the history', async () => {
    await open()
    await page.selectOption('#model', 'upstream')
    await say('stall')
    await page.locator('.message.assistant', { hasText: 'Thinking' }).waitFor()
    await page.click('#stop')
    await ended('stopped')
    await say('reset')
    await ended('failed')
    await page.reload()
    await ended('failed')
    expect(
      await page.locator('.message.assistant').evaluateAll((found) => found.map((a) => a.getAttribute('data-state'))),
    ).toEqual(['stopped', 'failed'])
    expect(await page.locator('.message.assistant').first().locator('.state').textContent()).toContain('Stopped')

    await say('and now?')
    await ended('finished')
    expect(upstream.requests.at(-1)!.body.messages).toEqual([{ role: 'user', content: 'and now?' }])
  })

  it('Copy copies an answer, Regenerate asks again, and an edited message is sent in its place', async () => {
    await open()
    await page.selectOption('#model', 'upstream')
    await say('one')
    await ended('finished')
    await say('two')
    await expect.poll(() => page.locator('.message.assistant[data-state="finished"]').count()).toBe(2)
    // Copy on every answer; Regenerate only on the last.
    expect(await page.locator('.message.assistant .copy-answer').count()).toBe(2)
    expect(await page.locator('.message.assistant .regenerate').count()).toBe(1)
    await page.locator('.message.assistant .copy-answer').first().click()
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe('echo: one')

    const before = upstream.requests.length
    await page.click('.message.assistant .regenerate')
    await expect.poll(() => upstream.requests.length).toBe(before + 1)
    await ended('finished')
    expect(upstream.requests.at(-1)!.body.messages).toEqual([
      { role: 'user', content: 'one' },
      { role: 'assistant', content: 'echo: one' },
      { role: 'user', content: 'two' },
    ])
    expect(await page.locator('.message.assistant').count()).toBe(2)

    await page.locator('.message.user .edit').first().click()
    await page.fill('.edit-form textarea', 'uno')
    await page.keyboard.press('Enter')
    await expect.poll(() => page.locator('.message.user').count()).toBe(1)
    await ended('finished')
    expect(upstream.requests.at(-1)!.body.messages).toEqual([{ role: 'user', content: 'uno' }])
    expect(await lastAnswer().locator('.markdown').textContent()).toBe('echo: uno')
  })
})

describe('API keys', () => {
  it('a model that needs a key is listed as such, a 401 asks for the key, and the key goes as a bearer token', async () => {
    await open()
    expect(await page.locator('#model option[value="keyed"]').textContent()).toBe('keyed (needs a key)')
    // A model whose upstream has no API key on the gateway could only fail: it is not offered.
    expect(await page.locator('#model option[value="unconfigured"]').count()).toBe(0)
    await page.selectOption('#model', 'keyed')
    await say('with a key')
    await page.locator('#settings[open]').waitFor()
    expect(await page.locator('#settings-reason').textContent()).toContain('needs an API key')
    expect(await lastAnswer().getAttribute('data-state')).toBe('refused')
    // Focus is in the dialog's field, found by its label.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('api-key')
    await page.getByLabel('API key', { exact: true }).fill(key)
    // Saving the key sends the refused message again, with the key.
    const sent = page.waitForRequest((request) => request.url().endsWith('/api/streams'))
    await page.click('#save-key')
    await expect
      .poll(() => page.locator('#settings').evaluate((d: HTMLDialogElement) => d.open), { timeout: 10_000 })
      .toBe(false)
    expect(await page.locator('#model option[value="keyed"]').textContent()).toBe('keyed')
    expect(await page.inputValue('#model')).toBe('keyed')

    const request = await sent
    expect(request.headers()['authorization']).toBe(`Bearer ${key}`)
    expect(request.url()).not.toContain(key)
    await ended('finished')
    expect(await lastAnswer().locator('.markdown').textContent()).toBe('echo: with a key')
    expect(await page.locator('.message.assistant').count()).toBe(1)
    expect(await page.evaluate(() => localStorage.getItem('llm-stream-gateway:api-key'))).toBe(key)
  })

  it('a wrong key is checked before it is kept: never saved, said so, and the list stays', async () => {
    await open()
    const options = await page.locator('#model option').allTextContents()
    await page.click('#open-settings')
    await page.getByLabel('API key', { exact: true }).fill('lsg_wrong')
    await page.click('#save-key')
    await expect
      .poll(() => page.locator('#settings-error').textContent(), { timeout: 10_000 })
      .toBe('The gateway did not accept this API key. It was not saved.')
    expect(await page.evaluate(() => localStorage.getItem('llm-stream-gateway:api-key'))).toBeNull()
    expect(await page.locator('#key-state').textContent()).toBe('API key')
    expect(await page.locator('#model option').allTextContents()).toEqual(options)
    expect(await seriousViolations()).toEqual([])
    // Nothing was kept, so a reload still lists the models.
    await page.reload()
    await expect.poll(() => page.locator('#model option').allTextContents()).toEqual(options)
  })

  it('with a key, models it does not allow are marked “not available with this key” and cannot be chosen', async () => {
    await open()
    await page.click('#open-settings')
    await page.getByLabel('API key', { exact: true }).fill(demoKey)
    await page.click('#save-key')
    await expect.poll(() => page.locator('#settings').evaluate((d: HTMLDialogElement) => d.open)).toBe(false)
    const keyed = page.locator('#model option[value="keyed"]')
    expect(await keyed.textContent()).toBe('keyed (not available with this key)')
    expect(await keyed.isDisabled()).toBe(true)
    expect(await page.inputValue('#model')).toBe('demo')
    expect(await page.locator('#model option[value="unconfigured"]').count()).toBe(0)
    expect(await page.locator('#key-state').textContent()).toBe('API key: set')
  })
})

describe('the demo model', () => {
  it('answers each example prompt with what it asks for: a table, a TypeScript function', async () => {
    await open()
    await page.getByRole('button', { name: 'Compare SQLite and Postgres in a table' }).click()
    await ended('finished')
    expect(await lastAnswer().locator('table th').allTextContents()).toEqual(['', 'SQLite', 'Postgres'])
    await page.click('#new-chat')
    await page.getByRole('button', { name: 'Write a TypeScript function that retries a fetch' }).click()
    await ended('finished')
    expect(await lastAnswer().locator('.code-bar span').textContent()).toBe('ts')
    expect(await lastAnswer().locator('.code-block code').textContent()).toContain(
      'export async function fetchWithRetry(',
    )
  })

  it('loads the highlighter only once an answer has a code block, within the page’s CSP', async () => {
    await open()
    const violations: string[] = []
    page.on('console', (message) => {
      if (message.text().includes('Content Security Policy')) violations.push(message.text())
    })
    const chunks: string[] = []
    page.on('request', (request) => {
      if (request.url().includes('/app/chunks/highlight')) chunks.push(request.url())
    })
    await page.selectOption('#model', 'upstream')
    await say('no code here')
    await ended('finished')
    expect(chunks).toEqual([])
    await page.selectOption('#model', 'demo')
    await say('now with code')
    await ended('finished')
    await lastAnswer().locator('.hljs-string').first().waitFor()
    expect(chunks).toHaveLength(1)
    expect(violations).toEqual([])
  })
})

describe('the narrowest phones', () => {
  it('works at 360 px: nothing wider than the window, the composer and the menu in view', async () => {
    context = await browser.newContext({ viewport: { width: 360, height: 640 } })
    page = await context.newPage()
    await page.goto(gateway.url)
    await expect.poll(() => page.locator('#model option').count(), { timeout: 15_000 }).toBeGreaterThan(1)
    await say(`A word ${'w'.repeat(200)} and a URL https://example.com/${'segment/'.repeat(30)}`)
    await ended('finished')
    expect(await pageOverflow()).toBeLessThanOrEqual(0)
    const composer = (await page.locator('#composer').boundingBox())!
    expect(composer.x + composer.width).toBeLessThanOrEqual(360)
    expect(composer.y + composer.height).toBeLessThanOrEqual(640)
    // The chat list opens over the page from the menu button, and Escape closes it again.
    await page.click('#open-sidebar')
    await page.locator('#chat-list .chat-open').first().waitFor()
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('new-chat')
    await expect.poll(() => page.locator('#sidebar').evaluate((s) => getComputedStyle(s).transform)).toBe('none')
    await screenshot('phone360-light-chat-list')
    await page.keyboard.press('Escape')
    await expect.poll(() => page.locator('#sidebar').evaluate((s) => getComputedStyle(s).visibility)).toBe('hidden')
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('open-sidebar')
  })
})
