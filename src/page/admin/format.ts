/** How the dashboard writes its figures. */

const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 6 })
const count = new Intl.NumberFormat('en-US')

export const formatUsd = (value: number) => usd.format(value)
export const formatCount = (value: number) => count.format(value)
export const formatMs = (value: number | null) => (value === null ? '–' : `${count.format(value)} ms`)
