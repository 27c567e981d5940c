import { mkdtempSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../src/access/api-key'
import { TestUpstream } from './upstream-server'
import { applyLedgerMigrations, executeLedgerSql, startWranglerDev, type WranglerDev } from './wrangler-dev'

/**
 * The `/admin` dashboard in Chromium against `wrangler dev`, at a phone's size and a laptop's, in
 * light and dark, with axe-core in each: the charts' axes as uPlot drew them, money to the cent,
 * tables that fit a phone and sort, the key kept for the session, the date presets.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
// USD per million tokens, steep enough that an answer costs cents: "hello" is 5 prompt and 3
// completion tokens, so $0.011 an answer.
const PRICE = { input: 1000, output: 2000 }
const ANSWER_USD = 0.011
const alice = generateApiKey()
const bob = generateApiKey()
const ops = generateApiKey()
const PHONE = { width: 390, height: 844 }
const LAPTOP = { width: 1280, height: 800 }
const DAY_MS = 86_400_000
const today = new Date().toISOString().slice(0, 10)
/** alice's daily token budget: each "hello" charges 8 of it. */
const ALICE_BUDGET = 1000

/**
 * A week long past (60 to 54 days ago), seeded straight into the ledger before the gateway starts:
 * what the error-rate and latency charts and the surface filter are checked against. Outside the
 * default 30 days, so the figures of today's answers above stay as they are.
 */
const WEEK = Array.from({ length: 7 }, (_, i) => new Date(Date.parse(today) - (60 - i) * DAY_MS))
const weekDay = (i: number) => WEEK[i]!.toISOString().slice(0, 10)
interface Seeded {
  day: number
  route: string
  principal: string
  outcome: 'done' | 'error'
  ttft: number | null
  tokens: number
}
const SEEDED: Seeded[] = [
  // Day 0: four answers on /v1/messages, 100 to 400 ms to the first token (p50 200, p95 400).
  ...[100, 200, 300, 400].map((ttft) => ({
    day: 0,
    route: '/v1/messages',
    principal: 'carol',
    outcome: 'done' as const,
    ttft,
    tokens: 10,
  })),
  // Day 1: one of two fails (50%).
  { day: 1, route: '/v1/chat/completions', principal: 'carol', outcome: 'done', ttft: 50, tokens: 20 },
  { day: 1, route: '/v1/chat/completions', principal: 'carol', outcome: 'error', ttft: null, tokens: 0 },
  // Day 2: nothing. Day 3: daily sums only (below). Day 4: one of three fails, on another surface.
  { day: 4, route: '/api/chat', principal: 'dave', outcome: 'done', ttft: 1000, tokens: 30 },
  { day: 4, route: '/api/chat', principal: 'dave', outcome: 'done', ttft: 1200, tokens: 30 },
  { day: 4, route: '/api/chat', principal: 'dave', outcome: 'error', ttft: null, tokens: 0 },
  // Day 5: nothing. Day 6: one answer.
  { day: 6, route: '/v1/messages', principal: 'carol', outcome: 'done', ttft: 80, tokens: 10 },
]
const seedSql = () => {
  const records = SEEDED.map((row, i) => {
    const ts = WEEK[row.day]!.getTime() + 3_600_000 * (i + 1)
    return `('seed-${i}', ${ts}, '${weekDay(row.day)}', '${row.route}', 200, 'key', '${row.principal}', 'upstream',
      'upstream', '${row.outcome}', ${row.outcome === 'error' ? "'upstream_error'" : 'NULL'}, ${row.tokens}, 0, 0, 0, 0,
      ${row.ttft ?? 'NULL'}, 1500)`
  })
  // Day 3 as the retention job leaves a day: sums per group, no single answers, no percentiles.
  return `INSERT INTO usage_records (id, ts, day, route, status, principal_kind, principal, model, upstream, outcome,
      error_code, prompt_tokens, completion_tokens, reasoning_tokens, estimated, cost_usd, ttft_ms, duration_ms)
    VALUES ${records.join(',\n')};
    INSERT INTO usage_daily (day, principal_kind, principal, model, route, outcome, error_code, requests, prompt_tokens,
      completion_tokens, reasoning_tokens, estimated_requests, cost_usd)
    VALUES ('${weekDay(3)}', 'key', 'carol', 'upstream', '/v1/messages', 'done', '', 3, 90, 0, 0, 0, 0),
      ('${weekDay(3)}', 'key', 'carol', 'upstream', '/v1/messages', 'error', 'upstream_error', 1, 0, 0, 0, 0, 0);`
}

let upstream: TestUpstream
let gateway: WranglerDev
let browser: Browser

beforeAll(async () => {
  upstream = new TestUpstream()
  const upstreamUrl = await upstream.start()
  const persistTo = mkdtempSync(join(tmpdir(), 'gateway-dashboard-'))
  await applyLedgerMigrations(persistTo)
  await executeLedgerSql(persistTo, seedSql())
  gateway = await startWranglerDev(
    {
      DEFAULT_MODEL: 'upstream',
      MODELS: JSON.stringify({
        upstream: { adapter: 'openai', base_url: upstreamUrl, upstream_model: 'test-model', price: PRICE },
        demo: { adapter: 'demo', token_delay_ms: 1 },
      }),
      ANONYMOUS_MODELS: 'upstream, demo',
      API_KEYS: JSON.stringify({
        alice: { sha256: await hashApiKey(alice), models: ['*'], daily_tokens: ALICE_BUDGET },
        bob: { sha256: await hashApiKey(bob), models: ['*'] },
        ops: { sha256: await hashApiKey(ops), models: ['*'], admin: true },
      }),
    },
    {},
    { persistTo },
  )
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic'],
  })
  // alice: three answers ($0.033); bob: one ($0.011) and one the upstream refuses (an error).
  for (const key of [alice, alice, alice, bob]) await (await chat('hello', key)).text()
  await (await chat('status:400', bob)).text()
  // The local queue hands its consumer a batch within max_batch_timeout (5 s).
  const deadline = Date.now() + 30_000
  while ((await answersInLedger()) < 5) {
    if (Date.now() > deadline) throw new Error('The ledger never held the five answers.')
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await gateway?.stop()
  await upstream?.stop()
})

const bearer = (key: string) => ({ Authorization: `Bearer ${key}` })

async function answersInLedger(): Promise<number> {
  const response = await fetch(`${gateway.url}/api/admin/usage?group_by=outcome`, { headers: bearer(ops) })
  const { rows } = (await response.json()) as { rows: Array<{ requests: number }> }
  return rows.reduce((sum, row) => sum + row.requests, 0)
}

function chat(content: string, key: string): Promise<Response> {
  return fetch(`${gateway.url}/api/chat`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...bearer(key) },
    body: JSON.stringify({ messages: [{ role: 'user', content }] }),
  })
}

const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js')

async function newPage(
  viewport = LAPTOP,
  colorScheme: 'light' | 'dark' = 'light',
): Promise<{ page: Page; context: BrowserContext; problems: string[] }> {
  // bypassCSP only so the test can inject axe-core; the page itself runs under its own CSP.
  const context = await browser.newContext({ colorScheme, viewport, bypassCSP: true })
  const page = await context.newPage()
  const problems: string[] = []
  page.on('console', (message) => message.type() === 'error' && problems.push(message.text()))
  page.on('pageerror', (error) => problems.push(String(error)))
  await page.goto(`${gateway.url}/admin`)
  return { page, context, problems }
}

async function signIn(page: Page): Promise<void> {
  await page.getByLabel('Admin key').fill(ops)
  await page.getByRole('button', { name: 'Show', exact: true }).click()
  // The request log comes last, after every figure.
  await page.getByRole('table', { name: 'Requests, newest first' }).waitFor()
}

async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: axeSource })
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: () => Promise<{ violations: Array<{ id: string }> }> } }).axe
    return (await axe.run()).violations.map((violation) => violation.id)
  })
}

/** What uPlot drew, as the chart wrote it on its plot element (see stacked-chart.ts). */
interface DrawnAxes {
  xMin: number
  xMax: number
  yMin: number
  yMax: number
  xTicks: string[]
  yTicks: string[]
}

function drawnAxes(page: Page, figure: 'spend' | 'tokens' | 'error-rate' | 'latency'): Promise<DrawnAxes> {
  return page.locator(`#${figure} .plot`).evaluate((plot: HTMLElement) => ({
    xMin: Number(plot.dataset.xMin),
    xMax: Number(plot.dataset.xMax),
    yMin: Number(plot.dataset.yMin),
    yMax: Number(plot.dataset.yMax),
    xTicks: JSON.parse(plot.dataset.xTicks ?? '[]') as string[],
    yTicks: JSON.parse(plot.dataset.yTicks ?? '[]') as string[],
  }))
}

/** The last `count` days, today included, oldest first. */
const lastDays = (count: number) =>
  Array.from({ length: count }, (_, i) => new Date(Date.parse(today) - (count - 1 - i) * DAY_MS))

/** Days as the x-axis should label them: the day of the month, the month below where the axis or a month starts. */
const labelsOf = (days: Date[]) =>
  days.map((day, i) =>
    i === 0 || days[i - 1]!.getUTCMonth() !== day.getUTCMonth()
      ? `${day.getUTCDate()}\n${day.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' })}`
      : String(day.getUTCDate()),
  )

describe('the /admin dashboard', () => {
  for (const colorScheme of ['light', 'dark'] as const) {
    for (const [size, viewport] of [
      ['phone', PHONE],
      ['laptop', LAPTOP],
    ] as const) {
      it(`shows spend to the cent with the exact figure at hand, axe clean (${size}, ${colorScheme})`, async () => {
        const { page, context, problems } = await newPage(viewport, colorScheme)
        await signIn(page)
        const principals = page.getByRole('table', { name: 'Usage by principal' })
        expect(await principals.getByRole('rowheader').allTextContents()).toEqual(['alice', 'bob'])
        const spend = page.locator('#totals dd').first()
        expect(await spend.textContent()).toBe('$0.04')
        expect(await spend.getAttribute('title')).toBe('$0.044')
        // Spend and Errors are never left out, at either size; nothing scrolls sideways.
        const headers = principals.locator('thead th:visible')
        expect(await headers.allTextContents()).toEqual(
          size === 'phone'
            ? ['Principal', 'Answers', 'Spend', 'Errors']
            : [
                'Principal',
                'Kind',
                'Answers',
                'Prompt tokens',
                'Completion tokens',
                'Reasoning tokens',
                'Spend',
                'Errors',
              ],
        )
        const bobsRow = principals.getByRole('row', { name: /bob/ })
        expect(await bobsRow.locator('td:visible').allTextContents()).toEqual(
          size === 'phone' ? ['2', '$0.01', '1'] : ['API key', '2', '5', '3', '0', '$0.01', '1'],
        )
        for (const box of await page.locator('.table').all()) {
          const { scrollWidth, clientWidth } = await box.evaluate((el) => ({
            scrollWidth: el.scrollWidth,
            clientWidth: el.clientWidth,
          }))
          expect(scrollWidth).toBeLessThanOrEqual(clientWidth)
        }
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(viewport.width)
        // No model without a price here: no note saying so.
        expect(await page.getByText('No model has a price').isVisible()).toBe(false)
        const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)
        expect(background).toBe(colorScheme === 'dark' ? 'rgb(17, 24, 39)' : 'rgb(255, 255, 255)')
        expect(await axeViolations(page)).toEqual([])
        expect(problems).toEqual([])
        await context.close()
      })
    }
  }

  for (const [preset, days] of [
    ['Today', 1],
    ['7 days', 7],
    ['30 days', 30],
  ] as const) {
    it(`draws ${preset} with an x-axis of exactly those days, a tick each, and a y-axis from zero`, async () => {
      const { page, context, problems } = await newPage()
      await signIn(page)
      await page.getByRole('button', { name: preset, exact: true }).click()
      const from = new Date(Date.parse(today) - (days - 1) * DAY_MS).toISOString().slice(0, 10)
      await expect
        .poll(() => page.getByRole('status').textContent(), { timeout: 10_000 })
        .toBe(`Usage from ${from} to ${today} (UTC days).`)
      expect(await page.getByLabel('From').inputValue()).toBe(from)
      for (const figure of ['spend', 'tokens'] as const) {
        const axes = await drawnAxes(page, figure)
        // Half a day either side of the first and last day's bar, in seconds.
        expect(axes.xMin).toBe(Date.parse(from) / 1000 - 43_200)
        expect(axes.xMax).toBe(Date.parse(today) / 1000 + 43_200)
        expect(axes.xTicks).toEqual(labelsOf(lastDays(days)))
        expect(axes.yMin).toBe(0)
        expect(axes.yTicks[0]).toBe(figure === 'spend' ? '$0.00' : '0')
      }
      // Today's bar is all the usage there is: the y-axis reaches it, and not ten times past it.
      const spend = await drawnAxes(page, 'spend')
      expect(spend.yMax).toBeGreaterThanOrEqual(4 * ANSWER_USD)
      expect(spend.yMax).toBeLessThan(10 * ANSWER_USD)
      const tokens = await drawnAxes(page, 'tokens')
      expect(tokens.yMax).toBeGreaterThanOrEqual(4 * 8)
      expect(tokens.yMax).toBeLessThan(4 * 8 * 2)
      expect(problems).toEqual([])
      await context.close()
    })
  }

  it('labels whole days only on a phone, thinning them to fit', async () => {
    const { page, context } = await newPage(PHONE)
    await signIn(page)
    await page.getByRole('button', { name: '30 days', exact: true }).click()
    await expect.poll(async () => (await drawnAxes(page, 'spend')).xTicks.length, { timeout: 10_000 }).toBeLessThan(30)
    const { xTicks } = await drawnAxes(page, 'spend')
    // Every `step`th day from the first, for one whole step: never a tick between days.
    const everyNth = (step: number) => labelsOf(lastDays(30).filter((_, i) => i % step === 0))
    const step = [2, 3, 4, 5, 6, 7, 8, 10, 15].find((n) => JSON.stringify(everyNth(n)) === JSON.stringify(xTicks))
    expect(step, `ticks ${JSON.stringify(xTicks)}`).toBeDefined()
    await context.close()
  })

  it('sorts a table by a header, saying so in aria-sort, from the keyboard', async () => {
    const { page, context } = await newPage()
    await signIn(page)
    const principals = page.getByRole('table', { name: 'Usage by principal' })
    const errors = principals.getByRole('columnheader', { name: 'Errors' })
    await errors.getByRole('button').focus()
    await page.keyboard.press('Enter')
    expect(await errors.getAttribute('aria-sort')).toBe('descending')
    expect(await principals.getByRole('rowheader').allTextContents()).toEqual(['bob', 'alice'])
    await page.keyboard.press('Enter')
    expect(await errors.getAttribute('aria-sort')).toBe('ascending')
    expect(await principals.getByRole('rowheader').allTextContents()).toEqual(['alice', 'bob'])
    const spend = principals.getByRole('columnheader', { name: 'Spend' })
    await spend.getByRole('button').click()
    expect(await spend.getAttribute('aria-sort')).toBe('descending')
    expect(await errors.getAttribute('aria-sort')).toBeNull()
    expect(await principals.getByRole('rowheader').allTextContents()).toEqual(['alice', 'bob'])
    // The table's scroll box is in the tab order, named by its table.
    expect(await page.getByRole('group', { name: 'Usage by principal' }).getAttribute('tabindex')).toBe('0')
    await context.close()
  })

  it('keeps the key for the session until "Sign out"', async () => {
    const { page, context, problems } = await newPage()
    await signIn(page)
    await page.reload()
    // Shown again without typing the key.
    await page.getByRole('table', { name: 'Requests, newest first' }).waitFor()
    expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([ops])
    expect(await page.evaluate(() => Object.values(localStorage))).toEqual([])
    await page.getByRole('button', { name: 'Sign out' }).click()
    expect(await page.getByRole('status').textContent()).toBe('Signed out: the admin key is forgotten.')
    expect(await page.locator('#report').isHidden()).toBe(true)
    expect(await page.getByLabel('Admin key').inputValue()).toBe('')
    await page.reload()
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0)
    expect(await page.getByRole('status').textContent()).toBe("Enter an admin key to see the gateway's usage.")
    expect(problems).toEqual([])
    await context.close()
  })

  it('does not keep a key that is not an admin’s', async () => {
    const { page, context } = await newPage()
    await page.getByLabel('Admin key').fill(alice)
    await page.getByRole('button', { name: 'Show', exact: true }).click()
    await expect.poll(() => page.getByRole('status').textContent()).toBe('That key is not an admin key.')
    expect(await page.locator('#report').isHidden()).toBe(true)
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0)
    await context.close()
  })

  it('says why everything costs $0.00 when no model has a price', async () => {
    const { page, context } = await newPage()
    // The gateway as shipped prices no model: the same answers, as the API would say it then.
    await page.route('**/api/admin/usage?*', async (route) => {
      const response = await route.fetch()
      const body = (await response.json()) as { priced_models: string[] }
      expect(body.priced_models).toEqual(['upstream'])
      await route.fulfill({ response, json: { ...body, priced_models: [] } })
    })
    await signIn(page)
    const note = page.getByText('No model has a price')
    expect(await note.isVisible()).toBe(true)
    expect(await note.textContent()).toMatch(/set price in MODELS to see spend/)
    expect(await axeViolations(page)).toEqual([])
    await context.close()
  })

  it('filters the figures and the request log by key and outcome', async () => {
    const { page, context, problems } = await newPage(PHONE, 'dark')
    await signIn(page)
    const log = page.getByRole('table', { name: 'Requests, newest first' })
    expect(await log.getByRole('row').count()).toBe(1 + 5)
    await page.getByLabel('Key', { exact: true }).selectOption('bob')
    await page.getByLabel('Outcome').selectOption('error')
    await expect.poll(() => log.getByRole('row').count(), { timeout: 10_000 }).toBe(1 + 1)
    expect(await log.getByRole('row').nth(1).locator('th:visible, td:visible').allTextContents()).toEqual([
      expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
      'bob',
      'error',
      '$0.00',
    ])
    const principals = page.getByRole('table', { name: 'Usage by principal' })
    expect(await principals.getByRole('rowheader').allTextContents()).toEqual(['bob'])
    expect(await page.locator('#totals dd').allTextContents()).toEqual(['$0.00', '1', '0', '1'])
    expect(await axeViolations(page)).toEqual([])
    expect(problems).toEqual([])
    await context.close()
  })

  it('pages the request log with "Show older" until the oldest answer', async () => {
    const { page, context, problems } = await newPage()
    // Two a page instead of 50, so five answers make three pages.
    await page.route('**/api/admin/requests?*', (route) => route.continue({ url: `${route.request().url()}&limit=2` }))
    await signIn(page)
    const rows = page.getByRole('table', { name: 'Requests, newest first' }).locator('tbody tr')
    const older = page.getByRole('button', { name: 'Show older' })
    expect(await rows.count()).toBe(2)
    await older.click()
    await expect.poll(() => rows.count()).toBe(4)
    await older.click()
    await expect.poll(() => rows.count()).toBe(5)
    expect(await older.isHidden()).toBe(true)
    const times = await rows.locator('th').allTextContents()
    expect(times).toEqual([...times].sort().reverse())
    expect(problems).toEqual([])
    await context.close()
  })
})

/** A chart's figures, as its table (inside the closed "as a table") has them: a row per day. */
function chartTable(page: Page, figure: 'spend' | 'tokens' | 'error-rate' | 'latency'): Promise<string[][]> {
  return page
    .locator(`#${figure} tbody tr`)
    .evaluateAll((rows) => rows.map((row) => [...row.children].map((cell) => cell.textContent ?? '')))
}

/** Shows the seeded week, from its first day to its last. */
async function showWeek(page: Page): Promise<void> {
  await page.getByLabel('From', { exact: true }).fill(weekDay(0))
  await page.getByLabel('To', { exact: true }).fill(weekDay(6))
  await page.getByRole('button', { name: 'Show', exact: true }).click()
  // A load asks the gateway seven things at once: on a busy machine, more than a second.
  await expect
    .poll(() => page.getByRole('status').textContent(), { timeout: 10_000 })
    .toBe(`Usage from ${weekDay(0)} to ${weekDay(6)} (UTC days).`)
}

describe('the /admin dashboard: error rate, latency, surfaces and budgets', () => {
  for (const [size, viewport, colorScheme] of [
    ['phone', PHONE, 'dark'],
    ['laptop', LAPTOP, 'light'],
  ] as const) {
    it(`charts the error rate and TTFT p50/p95 per day of a week, a tick a day, from zero (${size}, ${colorScheme})`, async () => {
      const { page, context, problems } = await newPage(viewport, colorScheme)
      await signIn(page)
      await showWeek(page)
      const dates = WEEK.map((_, i) => weekDay(i))
      // Day 3's four answers are daily sums: an error rate, but no time to first token.
      expect(await chartTable(page, 'error-rate')).toEqual(
        [['0%'], ['50%'], ['–'], ['25%'], ['33.3%'], ['–'], ['0%']].map((cells, i) => [dates[i]!, ...cells]),
      )
      expect(await chartTable(page, 'latency')).toEqual(
        [
          ['200 ms', '400 ms'],
          ['50 ms', '50 ms'],
          ['–', '–'],
          ['–', '–'],
          ['1,000 ms', '1,200 ms'],
          ['–', '–'],
          ['80 ms', '80 ms'],
        ].map((cells, i) => [dates[i]!, ...cells]),
      )
      for (const figure of ['error-rate', 'latency'] as const) {
        const axes = await drawnAxes(page, figure)
        expect(axes.xMin).toBe(Date.parse(weekDay(0)) / 1000 - 43_200)
        expect(axes.xMax).toBe(Date.parse(weekDay(6)) / 1000 + 43_200)
        expect(axes.xTicks).toEqual(labelsOf(WEEK))
        expect(axes.yMin).toBe(0)
      }
      // Tallest: 50% and 1,200 ms, each under a round top.
      const rate = await drawnAxes(page, 'error-rate')
      expect(rate.yTicks).toEqual(['0%', '20%', '40%', '60%', '80%'])
      const latency = await drawnAxes(page, 'latency')
      expect(latency.yTicks).toEqual(['0 ms', '500 ms', '1,000 ms', '1,500 ms', '2,000 ms'])
      for (const box of await page.locator('.table').all()) {
        const { scrollWidth, clientWidth } = await box.evaluate((el) => ({
          scrollWidth: el.scrollWidth,
          clientWidth: el.clientWidth,
        }))
        expect(scrollWidth).toBeLessThanOrEqual(clientWidth)
      }
      expect(await axeViolations(page)).toEqual([])
      expect(problems).toEqual([])
      await context.close()
    })
  }

  it('offers the filters what the ledger holds in the range, and narrows every figure by surface', async () => {
    const { page, context, problems } = await newPage()
    await signIn(page)
    const options = (label: string) => page.getByLabel(label, { exact: true }).locator('option').allTextContents()
    // Today: only today's answers' keys, model, surface and outcomes.
    expect(await options('Key')).toEqual(['All', 'alice', 'bob'])
    expect(await options('Surface')).toEqual(['All', '/api/chat'])
    expect(await options('Outcome')).toEqual(['All', 'done', 'error'])
    await showWeek(page)
    expect(await options('Key')).toEqual(['All', 'carol', 'dave'])
    expect(await options('Model')).toEqual(['All', 'upstream'])
    expect(await options('Surface')).toEqual(['All', '/api/chat', '/v1/chat/completions', '/v1/messages'])
    expect(await options('Outcome')).toEqual(['All', 'done', 'error'])

    const log = page.getByRole('table', { name: 'Requests, newest first' })
    expect(await log.locator('tbody tr').count()).toBe(SEEDED.length)
    await page.getByLabel('Surface', { exact: true }).selectOption('/v1/messages')
    // The log: the five records on /v1/messages (day 3 is sums, with no single answers).
    const onMessages = SEEDED.filter((row) => row.route === '/v1/messages')
    await expect.poll(() => log.locator('tbody tr').count(), { timeout: 10_000 }).toBe(onMessages.length)
    expect(await log.locator('tbody tr td:nth-child(4)').allTextContents()).toEqual(
      onMessages.map(() => '/v1/messages'),
    )
    // The charts: days 0, 3 and 6 only; day 3's sums count (3 answers of 30 tokens and 1 error).
    const dates = WEEK.map((_, i) => weekDay(i))
    expect(await chartTable(page, 'tokens')).toEqual(
      ['40', '0', '0', '90', '0', '0', '10'].map((tokens, i) => [dates[i]!, tokens, tokens]),
    )
    expect((await chartTable(page, 'error-rate')).map((row) => row[1])).toEqual(['0%', '–', '–', '25%', '–', '–', '0%'])
    expect((await chartTable(page, 'latency')).map((row) => row.slice(1))).toEqual([
      ['200 ms', '400 ms'],
      ['–', '–'],
      ['–', '–'],
      ['–', '–'],
      ['–', '–'],
      ['–', '–'],
      ['80 ms', '80 ms'],
    ])
    const principals = page.getByRole('table', { name: 'Usage by principal' })
    expect(await principals.getByRole('rowheader').allTextContents()).toEqual(['carol'])
    expect(await page.locator('#totals dd').allTextContents()).toEqual(['$0.00', '9', '140', '1'])
    // The choices stay what the range holds, not what the filter leaves.
    expect(await options('Key')).toEqual(['All', 'carol', 'dave'])
    expect(problems).toEqual([])
    await context.close()
  })

  it('shows each key’s daily budget and today’s use: the limits object’s for a budget, the ledger’s without', async () => {
    const { page, context, problems } = await newPage(PHONE)
    await signIn(page)
    const budgets = page.getByRole('table', { name: `Daily token budgets, used on ${today}` })
    const rows = await budgets
      .locator('tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [...tr.querySelectorAll('th:not(.optional), td:not(.optional)')].map((c) => c.textContent)),
      )
    // alice: three answers of 8 tokens charged to her 1,000; bob (no budget): his ledger's 8.
    expect(rows).toEqual([
      ['alice', '1,000', '24', '976'],
      ['bob', 'None', '8', '–'],
      ['ops', 'None', '0', '–'],
    ])
    // The same figures as alice's own view of her budget, GET /api/usage.
    const own = (await (await fetch(`${gateway.url}/api/usage`, { headers: bearer(alice) })).json()) as {
      budget: { used_today: number; remaining_today: number }
    }
    expect(own.budget).toMatchObject({ used_today: 24, remaining_today: ALICE_BUDGET - 24 })
    expect(await budgets.getByRole('row', { name: /alice/ }).locator('td').nth(2).getAttribute('title')).toBe(
      'Charged by its limits object',
    )
    expect(await page.locator('#budgets-day').textContent()).toContain(`Tokens charged on ${today} (UTC)`)
    expect(problems).toEqual([])
    await context.close()
  })
})

describe('GET /api/admin/requests', () => {
  interface LogPage {
    rows: Array<{ id: string; ts: number; principal: string; route: string; outcome: string; cost_usd: number }>
    next: string | null
  }
  const get = async (query: string, key = ops) => {
    const response = await fetch(`${gateway.url}/api/admin/requests?${query}`, { headers: bearer(key) })
    return { status: response.status, body: (await response.json()) as LogPage & { error?: { code: string } } }
  }

  it('pages through the ledger newest first, without repeats, and filters like the charts', async () => {
    const seen: LogPage['rows'] = []
    let query = 'limit=2'
    for (;;) {
      const { status, body } = await get(query)
      expect(status).toBe(200)
      expect(body.rows.length).toBeLessThanOrEqual(2)
      seen.push(...body.rows)
      if (!body.next) break
      query = `limit=2&cursor=${encodeURIComponent(body.next)}`
    }
    expect(seen).toHaveLength(5)
    expect(new Set(seen.map((row) => row.id)).size).toBe(5)
    expect(seen.map((row) => row.ts)).toEqual(seen.map((row) => row.ts).sort((a, b) => b - a))
    expect(seen.map((row) => row.principal).sort()).toEqual(['alice', 'alice', 'alice', 'bob', 'bob'])
    expect(seen.every((row) => row.route === '/api/chat')).toBe(true)
    const errors = (await get('principal=bob&outcome=error')).body.rows
    expect(errors).toEqual([expect.objectContaining({ principal: 'bob', outcome: 'error', cost_usd: 0 })])
    expect((await get('principal=alice&outcome=done')).body.rows).toHaveLength(3)
    expect((await get('route=/v1/messages')).body.rows).toEqual([])
  })

  it('refuses a bad filter, page size or cursor with 400, and a non-admin with 403', async () => {
    for (const query of ['outcome=lost', 'limit=0', 'limit=201', 'cursor=yesterday', 'from=2026-02-30']) {
      const { status, body } = await get(query)
      expect(status, query).toBe(400)
      expect(body.error?.code, query).toBe('invalid_request')
    }
    expect((await get('', alice)).status).toBe(403)
  })
})
