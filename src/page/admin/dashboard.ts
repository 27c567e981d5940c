import 'uplot/dist/uPlot.min.css'
import './dashboard.css'
import type uPlot from 'uplot'
import { formatCount, formatMs, formatUsd } from './format'
import { renderStackedChart, type StackedSeries } from './stacked-chart'
import { renderTable } from './table'
import { fetchUsage, UsageError, type UsageRow } from './usage-api'

/**
 * The operator's dashboard at `/admin`: everyone's usage for a range of days, from
 * `GET /api/admin/usage`. The admin key lives in the form field only: never in the URL or in
 * storage, so closing the tab forgets it.
 */
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const form = $<HTMLFormElement>('query')
const keyField = $<HTMLInputElement>('key')
const fromField = $<HTMLInputElement>('from')
const toField = $<HTMLInputElement>('to')
const status = $<HTMLParagraphElement>('status')
const report = $<HTMLDivElement>('report')

const DAY_MS = 86_400_000
const today = new Date().toISOString().slice(0, 10)
toField.value = today
fromField.value = new Date(Date.now() - 29 * DAY_MS).toISOString().slice(0, 10)

let charts: uPlot[] = []
/** What was last shown, to draw again when the colour scheme or the width changes. */
let shown: { from: string; to: string; byDayModel: UsageRow[] } | undefined

form.addEventListener('submit', (event) => {
  event.preventDefault()
  void show(keyField.value.trim(), fromField.value, toField.value)
})

async function show(key: string, from: string, to: string): Promise<void> {
  status.textContent = 'Loading…'
  try {
    const [byDayModel, byPrincipal, byModel, byErrorCode] = await Promise.all(
      ['day,model', 'principal', 'model', 'error_code'].map((groupBy) => fetchUsage(key, from, to, groupBy)),
    )
    shown = { from, to, byDayModel: byDayModel! }
    // Shown first: the charts take the width the page gives them, which a hidden element has not.
    report.hidden = false
    renderTotals(byModel!)
    drawCharts()
    renderTables(
      byPrincipal!,
      byModel!,
      byErrorCode!.filter((row) => row.error_code),
    )
    status.textContent = `Usage from ${from} to ${to} (UTC days).`
  } catch (error) {
    report.hidden = true
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
  const totals: Array<[string, string]> = [
    ['Spend', formatUsd(sum((row) => row.cost_usd))],
    ['Answers', formatCount(sum((row) => row.requests))],
    ['Tokens', formatCount(sum((row) => row.prompt_tokens + row.completion_tokens))],
    ['Errors', formatCount(sum((row) => row.errors))],
  ]
  $('totals').replaceChildren(
    ...totals.map(([term, value]) => {
      const pair = document.createElement('div')
      const dt = document.createElement('dt')
      dt.textContent = term
      const dd = document.createElement('dd')
      dd.textContent = value
      pair.append(dt, dd)
      return pair
    }),
  )
}

function drawCharts(): void {
  if (!shown) return
  for (const chart of charts) chart.destroy()
  const { from, to, byDayModel } = shown
  const days = daysBetween(from, to)
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
    }),
    renderStackedChart($('tokens'), {
      caption: 'Tokens per day (prompt and completion), stacked by model',
      days,
      series: seriesOf((row) => row.prompt_tokens + row.completion_tokens),
      format: formatCount,
    }),
  ]
}

function renderTables(byPrincipal: UsageRow[], byModel: UsageRow[], byErrorCode: UsageRow[]): void {
  const figures = [
    { label: 'Answers', value: (row: UsageRow) => formatCount(row.requests), numeric: true },
    { label: 'Prompt tokens', value: (row: UsageRow) => formatCount(row.prompt_tokens), numeric: true },
    { label: 'Completion tokens', value: (row: UsageRow) => formatCount(row.completion_tokens), numeric: true },
    { label: 'Reasoning tokens', value: (row: UsageRow) => formatCount(row.reasoning_tokens), numeric: true },
    { label: 'Spend', value: (row: UsageRow) => formatUsd(row.cost_usd), numeric: true },
    { label: 'Errors', value: (row: UsageRow) => formatCount(row.errors), numeric: true },
  ]
  $('principals').replaceChildren(
    renderTable(
      'Usage by principal',
      [
        { label: 'Principal', value: (row) => row.principal! },
        { label: 'Kind', value: (row) => ({ key: 'API key', jwt: 'token', anonymous: 'anonymous' })[row.kind!] ?? '' },
        ...figures,
      ],
      byPrincipal,
    ),
  )
  $('models').replaceChildren(
    renderTable(
      'Usage by model',
      [
        { label: 'Model', value: (row) => row.model! },
        ...figures,
        { label: 'First token p50', value: (row) => formatMs(row.ttft_ms_p50), numeric: true },
        { label: 'First token p95', value: (row) => formatMs(row.ttft_ms_p95), numeric: true },
      ],
      byModel,
    ),
  )
  $('errors').replaceChildren(
    renderTable(
      'Errors by code',
      [
        { label: 'Code', value: (row) => row.error_code! },
        { label: 'Answers', value: (row) => formatCount(row.requests), numeric: true },
      ],
      byErrorCode,
    ),
  )
}

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
