/** How the dashboard writes its figures. */

const cents = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' })
const exact = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 8 })
const count = new Intl.NumberFormat('en-US')

/** Money to the cent, as people read it; a spend under half a cent is not written "$0.00". */
export const formatUsd = (value: number) => (value > 0 && value < 0.005 ? '<$0.01' : cents.format(value))
/** The ledger's own figure (to a millionth of a cent), for a tooltip beside `formatUsd`. */
export const exactUsd = (value: number) => exact.format(value)
/** An axis tick: cents, or as many places as a range under a cent needs to tell its ticks apart. */
export const axisUsd = (value: number) =>
  value === 0 || value >= 0.1 ? cents.format(value) : `$${Number(value.toPrecision(2))}`
export const formatCount = (value: number) => count.format(value)
export const formatMs = (value: number | null) => (value === null ? '–' : `${count.format(value)} ms`)
