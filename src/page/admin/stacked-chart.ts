import uPlot from 'uplot'
import { renderTable } from './table'

/**
 * A bar chart per day, stacked by series (models), drawn by uPlot: a small, well-kept canvas
 * chart library (about 20 KiB gzipped, measured in docs/usage.md). A canvas says nothing to a
 * screen reader, so the chart is hidden from one and the same figures follow as a table.
 */
export interface StackedSeries {
  label: string
  /** One value per day, in the order of `days`. */
  values: number[]
}

export interface StackedChart {
  caption: string
  /** UTC dates, YYYY-MM-DD, oldest first. */
  days: string[]
  series: StackedSeries[]
  format: (value: number) => string
}

/** Distinct in light and dark alike, and apart for the common kinds of colour blindness (Okabe–Ito). */
const PALETTE = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442', '#7f7f7f']

export function colourOf(index: number): string {
  return PALETTE[index % PALETTE.length]!
}

const DAY_S = 86_400

/** Draws `chart` into `figure` (replacing what it held); returns the uPlot to resize or destroy. */
export function renderStackedChart(figure: HTMLElement, chart: StackedChart): uPlot {
  figure.replaceChildren()
  const caption = document.createElement('figcaption')
  caption.textContent = chart.caption
  const legend = document.createElement('ul')
  legend.className = 'legend'
  legend.setAttribute('aria-hidden', 'true')
  chart.series.forEach((series, i) => {
    const item = document.createElement('li')
    const swatch = document.createElement('span')
    swatch.className = 'swatch'
    swatch.style.background = colourOf(i)
    item.append(swatch, series.label)
    legend.append(item)
  })
  const plot = document.createElement('div')
  plot.className = 'plot'
  plot.setAttribute('aria-hidden', 'true')
  const details = document.createElement('details')
  const summary = document.createElement('summary')
  summary.textContent = `${chart.caption} as a table`
  details.append(summary, tableOf(chart))
  figure.append(caption, legend, plot, details)

  const x = chart.days.map((day) => Date.parse(day) / 1000)
  // Each series is drawn as the running total up to it, tallest first, so each bar shows through
  // only as far as its own share: a stack without a plugin.
  const cumulative: number[][] = []
  chart.series.forEach((series, i) => {
    cumulative.push(series.values.map((value, d) => value + (i ? cumulative[i - 1]![d]! : 0)))
  })
  const style = getComputedStyle(figure)
  const ink = style.getPropertyValue('--ink').trim() || 'currentColor'
  const grid = style.getPropertyValue('--grid').trim() || 'rgba(128,128,128,0.3)'
  const axis = { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } }
  const bars = uPlot.paths.bars!({ size: [0.7, 48], align: 0 })
  const order = chart.series.map((_, i) => i).reverse()
  return new uPlot(
    {
      width: Math.max(figure.clientWidth, 280),
      height: 240,
      legend: { show: false },
      cursor: { show: false },
      // Dates are UTC days, as the ledger keeps them: not the viewer's time zone.
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      scales: { x: { time: true, range: (_u, min, max) => [min - DAY_S / 2, max + DAY_S / 2] } },
      axes: [
        { ...axis, space: 60 },
        { ...axis, size: 80, values: (_u, ticks) => ticks.map((tick) => chart.format(tick)) },
      ],
      series: [
        {},
        ...order.map((i) => ({
          label: chart.series[i]!.label,
          stroke: colourOf(i),
          fill: colourOf(i),
          width: 0,
          paths: bars,
          points: { show: false },
        })),
      ],
    },
    [x, ...order.map((i) => cumulative[i]!)],
    plot,
  )
}

function tableOf(chart: StackedChart): HTMLTableElement {
  const rows = chart.days.map((day, d) => ({ day, values: chart.series.map((series) => series.values[d]!) }))
  return renderTable(
    chart.caption,
    [
      { label: 'Date', value: (row) => row.day },
      ...chart.series.map((series, i) => ({
        label: series.label,
        value: (row: (typeof rows)[number]) => chart.format(row.values[i]!),
        numeric: true,
      })),
      {
        label: 'Total',
        value: (row: (typeof rows)[number]) => chart.format(row.values.reduce((a, b) => a + b, 0)),
        numeric: true,
      },
    ],
    rows,
  )
}
