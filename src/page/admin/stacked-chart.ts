import uPlot from 'uplot'
import { renderTable, scrollBox, type Column } from './table'

/**
 * A bar chart per day, stacked by series (models), drawn by uPlot: a small, well-kept canvas
 * chart library (about 20 KiB gzipped, measured in docs/usage.md). A canvas says nothing to a
 * screen reader, so the chart is hidden from one and the same figures follow as a table.
 * Unstacked, the series overlap instead, each bar from zero (time to first token: p95 behind p50).
 */
export interface StackedSeries {
  label: string
  /** One value per day, in the order of `days`; null for a day without one (no bar, "–"). */
  values: Array<number | null>
}

export interface StackedChart {
  caption: string
  /** UTC dates, YYYY-MM-DD, oldest first. */
  days: string[]
  series: StackedSeries[]
  format: (value: number) => string
  /** The exact figure behind a rounded one, for a cell's tooltip. */
  exact?: (value: number) => string
  /** For the y-axis's ticks, when they need another precision than the cells. */
  axisFormat?: (value: number) => string
  /**
   * Stacked (the default): bars add up, and the table has a Total column. Not stacked: each
   * series from zero, later ones in front, for figures that do not add up (rates, percentiles);
   * give them smallest first, so the taller shows above.
   */
  stacked?: boolean
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
  details.append(summary, scrollBox(tableOf(chart)))
  figure.append(caption, legend, plot, details)

  const x = chart.days.map((day) => Date.parse(day) / 1000)
  // Each series is drawn as the running total up to it, tallest first, so each bar shows through
  // only as far as its own share: a stack without a plugin. Unstacked, each as it is.
  const stacked = chart.stacked ?? true
  const cumulative: Array<Array<number | null>> = []
  chart.series.forEach((series, i) => {
    cumulative.push(
      stacked ? series.values.map((value, d) => (value ?? 0) + (i ? cumulative[i - 1]![d]! : 0)) : series.values,
    )
  })
  const style = getComputedStyle(figure)
  const ink = style.getPropertyValue('--ink').trim() || 'currentColor'
  const grid = style.getPropertyValue('--grid').trim() || 'rgba(128,128,128,0.3)'
  const axis = { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } }
  const bars = uPlot.paths.bars!({ size: [0.7, 48], align: 0 })
  const order = chart.series.map((_, i) => i).reverse()
  const width = Math.max(figure.clientWidth, 280)
  const top = Math.max(0, ...(stacked ? (cumulative.at(-1) ?? []) : cumulative.flat()).map((value) => value ?? 0))
  // The scales are set, never guessed from the data: uPlot's own guess widens a single day to
  // years and starts the y-axis near the smallest bar, so one model looked like a sliver.
  const xRange: [number, number] = [x[0]! - DAY_S / 2, x.at(-1)! + DAY_S / 2]
  const yRange: [number, number] = [0, top > 0 ? niceCeiling(top) : 1]
  const dayTicks = everyNthDay(x, Math.max(1, Math.floor((width - 80) / TICK_SPACE)))
  return new uPlot(
    {
      width,
      height: 240,
      legend: { show: false },
      cursor: { show: false },
      // Dates are UTC days, as the ledger keeps them: not the viewer's time zone.
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      scales: { x: { time: true, range: () => xRange }, y: { range: () => yRange } },
      axes: [
        {
          ...axis,
          size: 56, // two lines: the day, and the month's name where one starts
          // One tick per day, under its bar; on a long range every few days, never between days.
          splits: () => dayTicks,
          values: (_u, ticks) => ticks.map((tick, i) => dayLabel(tick, ticks[i - 1])),
        },
        {
          ...axis,
          size: 80,
          splits: () => [0, 1, 2, 3, 4].map((i) => (yRange[1] * i) / 4),
          values: (_u, ticks) => ticks.map((tick) => (chart.axisFormat ?? chart.format)(tick)),
        },
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
      hooks: { draw: [(u) => describeAxes(plot, u)] },
    },
    [x, ...order.map((i) => cumulative[i]!)],
    plot,
  )
}

/**
 * Writes what was drawn (the scales' ends and each axis's tick labels) on the plot element, so a
 * test reads the rendered axes instead of trusting the options.
 */
function describeAxes(plot: HTMLElement, u: uPlot): void {
  const { x, y } = u.scales
  const labels = (axis: number) => (u.axes[axis] as { _values?: unknown[] })._values?.map(String) ?? []
  plot.dataset.xMin = String(x!.min)
  plot.dataset.xMax = String(x!.max)
  plot.dataset.yMin = String(y!.min)
  plot.dataset.yMax = String(y!.max)
  plot.dataset.xTicks = JSON.stringify(labels(0))
  plot.dataset.yTicks = JSON.stringify(labels(1))
}

/** The days to label, every `n`th so that at most `fit` fit, always counting from the first. */
function everyNthDay(days: number[], fit: number): number[] {
  const step = Math.ceil(days.length / fit)
  return days.filter((_, i) => i % step === 0)
}

/** Room a day's label needs, in CSS pixels: two digits (a month's name goes on a line below). */
const TICK_SPACE = 30
const monthFormat = new Intl.DateTimeFormat('en-US', { month: 'short', timeZone: 'UTC' })

/** The day of the month, with the month's name below it where the axis starts and where a month begins. */
function dayLabel(seconds: number, previous: number | undefined): string {
  const day = new Date(seconds * 1000)
  const newMonth = previous === undefined || new Date(previous * 1000).getUTCMonth() !== day.getUTCMonth()
  return newMonth ? `${day.getUTCDate()}\n${monthFormat.format(day)}` : String(day.getUTCDate())
}

/** A round top for the y-axis at or above `value`: 1, 2, 2.5 or 5 times a power of ten, over 4 ticks. */
function niceCeiling(value: number): number {
  const step = value / 4
  const power = 10 ** Math.floor(Math.log10(step))
  const nice = [1, 2, 2.5, 5, 10].find((m) => m * power >= step)!
  return nice * power * 4
}

function tableOf(chart: StackedChart): HTMLTableElement {
  type Row = { day: string; values: Array<number | null> }
  const rows: Row[] = chart.days.map((day, d) => ({ day, values: chart.series.map((series) => series.values[d]!) }))
  const shown = (value: number | null) => (value === null ? '–' : chart.format(value))
  const stacked = chart.stacked ?? true
  const columns: Column<Row>[] = [
    { label: 'Date', value: (row) => row.day },
    ...chart.series.map((series, i): Column<Row> => ({
      label: series.label,
      value: (row) => shown(row.values[i]!),
      title: chart.exact && ((row) => (row.values[i] === null ? '' : chart.exact!(row.values[i]!))),
      sort: (row) => row.values[i] ?? -1,
      numeric: true,
      // Stacked, the Total stays on a phone; unstacked, every series is a figure of its own.
      optional: stacked,
    })),
  ]
  if (stacked) {
    columns.push({
      label: 'Total',
      value: (row) => chart.format(sumOf(row.values)),
      title: chart.exact && ((row) => chart.exact!(sumOf(row.values))),
      sort: (row) => sumOf(row.values),
      numeric: true,
    })
  }
  return renderTable(chart.caption, columns, rows)
}

const sumOf = (values: Array<number | null>) => values.reduce<number>((a, b) => a + (b ?? 0), 0)
