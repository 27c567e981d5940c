/** How the dashboard writes its figures. */

const cents = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' })
const exact = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 8 })
const count = new Intl.NumberFormat('en-US')
const percent = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 })

/** Money to the cent, as people read it; a spend under half a cent is not written "$0.00". */
export const formatUsd = (value: number) => (value > 0 && value < 0.005 ? '<$0.01' : cents.format(value))
/** The ledger's own figure (to a millionth of a cent), for a tooltip beside `formatUsd`. */
export const exactUsd = (value: number) => exact.format(value)
/** An axis tick: in cents when it is a whole number of them, else with the places it needs ($0.0025). */
export const axisUsd = (value: number) =>
  Math.abs(value * 100 - Math.round(value * 100)) < 1e-9 ? cents.format(value) : `$${Number(value.toPrecision(3))}`
export const formatCount = (value: number) => count.format(value)
export const formatMs = (value: number | null) => (value === null ? '–' : `${count.format(value)} ms`)
/** A share as people read it: 0.3333 is 33.3%. */
export const formatPercent = (value: number) => percent.format(value)
