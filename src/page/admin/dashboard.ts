import 'uplot/dist/uPlot.min.css'
import './dashboard.css'
import type uPlot from 'uplot'
import { budgetsDay, budgetTable } from './budget-table'
import { axisUsd, exactUsd, formatCount, formatMs, formatPercent, formatUsd } from './format'
import { renderStackedChart, type StackedSeries } from './stacked-chart'
import { renderTable, scrollBox, type Column } from './table'
import { RequestLog } from './request-log'
import {
  fetchBudgets,
  fetchChoices,
  fetchUsage,
  UsageError,
  type FilterChoices,
  type UsageFilter,
  type UsageRow,
} from './usage-api'

/**
 * The operator's dashboard at `/admin`: everyone's usage for a range of days, from
 * `GET /api/admin/usage`. The admin key is kept for the tab's session (sessionStorage, once a
 * key has worked): never in the URL or localStorage, so closing the tab or "Sign out" forgets it.
 */
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const form = $<HTMLFormElement>('query')
const keyField = $<HTMLInputElement>('key')
const fromField = $<HTMLInputElement>('from')
const toField = $<HTMLInputElement>('to')
const status = $<HTMLParagraphElement>('status')
const report = $<HTMLDivElement>('report')
const signOut = $<HTMLButtonElement>('sign-out')
const priceNote = $<HTMLParagraphElement>('price-note')
const KEY_STORAGE = 'gateway-admin-key'
const filters = $<HTMLFormElement>('filters')
const requestLog = new RequestLog($('requests'), $<HTMLButtonElement>('older'))

const DAY_MS = 86_400_000
const today = new Date().toISOString().slice(0, 10)
const daysAgo = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString().slice(0, 10)
toField.value = today
fromField.value = daysAgo(29)

/** Counts the loads, so that one overtaken by a later (a filter changed twice) draws nothing. */
let loads = 0

let charts: uPlot[] = []
/** What was last shown, to draw again when the colour scheme or the width changes. */
let shown: { from: string; to: string; byDayModel: UsageRow[]; byDay: UsageRow[] } | undefined

form.addEventListener('submit', (event) => {
  event.preventDefault()
  void show(keyField.value.trim(), fromField.value, toField.value)
})
filters.addEventListener('change', () => void show(keyField.value.trim(), fromField.value, toField.value))

function chosenFilter(): UsageFilter {
  const filter: Record<string, string> = {}
  for (const [name, value] of new FormData(filters)) if (value) filter[name] = String(value)
  return filter
}

/**
 * Fills each filter with what the ledger holds in the range (`GET /api/admin/filters`), keeping
 * what is chosen even when the range holds none of it: the figures say so, the choice stays.
 */
function offer(choices: FilterChoices): void {
  for (const name of ['principal', 'model', 'route', 'outcome'] as const) {
    const select = $<HTMLSelectElement>(`filter-${name}`)
    const chosen = select.value
    const values = chosen && !choices[name].includes(chosen) ? [...choices[name], chosen].sort() : choices[name]
    select.replaceChildren(new Option('All', ''), ...values.map((value) => new Option(value)))
    select.value = chosen
  }
}

// Presets: the range ends today and spans this many days, today included.
for (const preset of document.querySelectorAll<HTMLButtonElement>('[data-days]')) {
  preset.addEventListener('click', () => {
    toField.value = today
    fromField.value = daysAgo(Number(preset.dataset.days) - 1)
    form.requestSubmit()
  })
}

signOut.addEventListener('click', () => {
  loads++ // a load still under way shows nothing once signed out
  sessionStorage.removeItem(KEY_STORAGE)
  keyField.value = ''
  report.hidden = true
  signOut.hidden = true
  status.textContent = 'Signed out: the admin key is forgotten.'
  keyField.focus()
})

const remembered = sessionStorage.getItem(KEY_STORAGE)
if (remembered) {
  keyField.value = remembered
  void show(remembered, fromField.value, toField.value)
}

async function show(key: string, from: string, to: string): Promise<void> {
  const load = ++loads
  status.textContent = 'Loading…'
  try {
    const filter = chosenFilter()
    const [answers, choices, budgets] = await Promise.all([
      Promise.all(
        ['day,model', 'principal', 'model', 'error_code', 'day'].map((groupBy) =>
          fetchUsage(key, from, to, groupBy, filter),
        ),
      ),
      fetchChoices(key, from, to),
      fetchBudgets(key),
    ])
    if (load !== loads) return
    const [byDayModel, byPrincipal, byModel, byErrorCode, byDay] = answers.map((answer) => answer.rows)
    priceNote.hidden = answers[0]!.priced_models.length > 0
    sessionStorage.setItem(KEY_STORAGE, key)
    signOut.hidden = false
    shown = { from, to, byDayModel: byDayModel!, byDay: byDay! }
    offer(choices)
    $('budgets-day').textContent = budgetsDay(budgets)
    $('budgets').replaceChildren(budgetTable(budgets))
    // Shown first: the charts take the width the page gives them, which a hidden element has not.
    report.hidden = false
    renderTotals(byModel!)
    drawCharts()
    renderTables(
      byPrincipal!,
      byModel!,
      byErrorCode!.filter((row) => row.error_code),
    )
    await requestLog.show(key, from, to, filter)
    if (load === loads) status.textContent = `Usage from ${from} to ${to} (UTC days).`
  } catch (error) {
    if (load !== loads) return
    report.hidden = true
    if (error instanceof UsageError && (error.status === 401 || error.status === 403)) {
      sessionStorage.removeItem(KEY_STORAGE)
      signOut.hidden = true
    }
    status.textContent =
      error instanceof UsageError && error.status === 401
        ? 'That key is not valid.'
        : error instanceof UsageError && error.status === 403
          ? 'That key is not an admin key.'
          : `Could not load the usage: ${error instanceof Error ? error.message : String(error)}`
  }
}

function renderTotals(byModel: UsageRow[]): void {
  const sum = (pick: (row: UsageRow) => number) => byModel.reduce((total, row) => total + pick(row), 0)
  const spend = sum((row) => row.cost_usd)
  const totals: Array<[string, string, string?]> = [
    ['Spend', formatUsd(spend), exactUsd(spend)],
    ['Answers', formatCount(sum((row) => row.requests))],
    ['Tokens', formatCount(sum((row) => row.prompt_tokens + row.completion_tokens))],
    ['Errors', formatCount(sum((row) => row.errors))],
  ]
  $('totals').replaceChildren(
    ...totals.map(([term, value, exact]) => {
      const pair = document.createElement('div')
      const dt = document.createElement('dt')
      dt.textContent = term
      const dd = document.createElement('dd')
      dd.textContent = value
      if (exact) dd.title = exact
      pair.append(dt, dd)
      return pair
    }),
  )
}

function drawCharts(): void {
  if (!shown) return
  for (const chart of charts) chart.destroy()
  const { from, to, byDayModel, byDay } = shown
  const days = daysBetween(from, to)
  const dayRow = (day: string) => byDay.find((row) => row.date === day)
  const models = [...new Set(byDayModel.map((row) => row.model!))].sort()
  const seriesOf = (value: (row: UsageRow) => number): StackedSeries[] =>
    models.map((model) => ({
      label: model,
      values: days.map((day) => {
        const row = byDayModel.find((r) => r.date === day && r.model === model)
        return row ? value(row) : 0
      }),
    }))
  charts = [
    renderStackedChart($('spend'), {
      caption: 'Spend per day (USD), stacked by model',
      days,
      series: seriesOf((row) => row.cost_usd),
      format: formatUsd,
      exact: exactUsd,
      axisFormat: axisUsd,
    }),
    renderStackedChart($('tokens'), {
      caption: 'Tokens per day (prompt and completion), stacked by model',
      days,
      series: seriesOf((row) => row.prompt_tokens + row.completion_tokens),
      format: formatCount,
    }),
    // Errors over every answer of the day (a cancelled answer is not an error); none that day: no rate.
    renderStackedChart($('error-rate'), {
      caption: 'Error rate per day (errors over answers)',
      days,
      series: [
        {
          label: 'Error rate',
          values: days.map((day) => {
            const row = dayRow(day)
            return row?.requests ? row.errors / row.requests : null
          }),
        },
      ],
      format: formatPercent,
      stacked: false,
    }),
    // From the records still kept: a day rolled up into daily sums, or without text, has none.
    renderStackedChart($('latency'), {
      caption: 'Time to first token per day, p50 and p95',
      days,
      series: [
        { label: 'p50', values: days.map((day) => dayRow(day)?.ttft_ms_p50 ?? null) },
        { label: 'p95', values: days.map((day) => dayRow(day)?.ttft_ms_p95 ?? null) },
      ],
      format: (value) => formatMs(value),
      stacked: false,
    }),
  ]
}

function renderTables(byPrincipal: UsageRow[], byModel: UsageRow[], byErrorCode: UsageRow[]): void {
  const counted = (label: string, pick: (row: UsageRow) => number, optional = false): Column<UsageRow> => ({
    label,
    value: (row) => formatCount(pick(row)),
    sort: pick,
    numeric: true,
    optional,
  })
  const figures: Column<UsageRow>[] = [
    counted('Answers', (row) => row.requests),
    counted('Prompt tokens', (row) => row.prompt_tokens, true),
    counted('Completion tokens', (row) => row.completion_tokens, true),
    counted('Reasoning tokens', (row) => row.reasoning_tokens, true),
    {
      label: 'Spend',
      value: (row) => formatUsd(row.cost_usd),
      title: (row) => exactUsd(row.cost_usd),
      sort: (row) => row.cost_usd,
      numeric: true,
    },
    counted('Errors', (row) => row.errors),
  ]
  const latency = (label: string, pick: (row: UsageRow) => number | null): Column<UsageRow> => ({
    label,
    value: (row) => formatMs(pick(row)),
    sort: (row) => pick(row) ?? -1,
    numeric: true,
    optional: true,
  })
  $('principals').replaceChildren(
    tableIn(
      'Usage by principal',
      [
        { label: 'Principal', value: (row) => row.principal! },
        {
          label: 'Kind',
          value: (row) => ({ key: 'API key', jwt: 'token', anonymous: 'anonymous' })[row.kind!] ?? '',
          optional: true,
        },
        ...figures,
      ],
      byPrincipal,
    ),
  )
  $('models').replaceChildren(
    tableIn(
      'Usage by model',
      [
        { label: 'Model', value: (row) => row.model! },
        ...figures,
        latency('First token p50', (row) => row.ttft_ms_p50),
        latency('First token p95', (row) => row.ttft_ms_p95),
      ],
      byModel,
    ),
  )
  $('errors').replaceChildren(
    tableIn(
      'Errors by code',
      [{ label: 'Code', value: (row) => row.error_code! }, counted('Answers', (row) => row.requests)],
      byErrorCode,
    ),
  )
}

const tableIn = <Row>(...args: Parameters<typeof renderTable<Row>>) => scrollBox(renderTable(...args))

function daysBetween(from: string, to: string): string[] {
  const days: string[] = []
  for (let time = Date.parse(from); time <= Date.parse(to); time += DAY_MS) {
    days.push(new Date(time).toISOString().slice(0, 10))
  }
  return days
}

// Canvas colours come from CSS at drawing time: draw again when the scheme or the width changes.
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', drawCharts)
let resizing: ReturnType<typeof setTimeout> | undefined
addEventListener('resize', () => {
  clearTimeout(resizing)
  resizing = setTimeout(drawCharts, 150)
})
