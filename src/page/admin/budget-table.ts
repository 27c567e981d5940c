import { formatCount } from './format'
import { renderTable, scrollBox } from './table'
import type { Budgets, BudgetRow } from './usage-api'

/**
 * Each key's daily token budget and what it has used today (UTC), from `GET /api/admin/budgets`:
 * not narrowed by the range or the filters, since a budget is charged per UTC day. "Used today"
 * says in its tooltip where it was counted: by the key's limits object (what admits or refuses
 * its answers) for a budget, by the ledger otherwise.
 */
export function budgetTable(budgets: Budgets): HTMLElement {
  const tokens = (value: number | null) => (value === null ? '–' : formatCount(value))
  return scrollBox(
    renderTable<BudgetRow>(
      `Daily token budgets, used on ${budgets.day}`,
      [
        { label: 'Principal', value: (row) => row.principal },
        { label: 'Kind', value: (row) => (row.kind === 'key' ? 'API key' : 'token'), optional: true },
        {
          label: 'Daily budget',
          value: (row) => (row.daily_tokens === null ? 'None' : formatCount(row.daily_tokens)),
          sort: (row) => row.daily_tokens ?? Infinity,
          numeric: true,
        },
        {
          label: 'Used today',
          value: (row) => tokens(row.used_today),
          title: (row) => (row.counted_by === 'limits' ? 'Charged by its limits object' : 'From the usage ledger'),
          sort: (row) => row.used_today ?? -1,
          numeric: true,
        },
        {
          label: 'Left',
          value: (row) => tokens(row.remaining_today),
          sort: (row) => row.remaining_today ?? Infinity,
          numeric: true,
        },
      ],
      budgets.rows,
    ),
  )
}

/** The day the budgets are charged to, and when they start again. */
export function budgetsDay(budgets: Budgets): string {
  return `Tokens charged on ${budgets.day} (UTC): every budget starts again at midnight UTC.`
}
