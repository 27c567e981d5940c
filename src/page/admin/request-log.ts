import { exactUsd, formatCount, formatMs, formatUsd } from './format'
import { renderTable, scrollBox } from './table'
import { fetchRequests, type RequestRow, type UsageFilter } from './usage-api'

/**
 * The request log: the ledger's answers for the range and filters, newest first, a page at a
 * time ("Show older" adds the next). Each row is what the ledger recorded, never what was said.
 */
export class RequestLog {
  private rows: RequestRow[] = []
  private next: string | null = null
  private query: { key: string; from: string; to: string; filter: UsageFilter } | undefined

  constructor(
    private readonly box: HTMLElement,
    private readonly more: HTMLButtonElement,
  ) {
    more.addEventListener('click', () => void this.load())
  }

  /** Starts again from the newest answer. */
  async show(key: string, from: string, to: string, filter: UsageFilter): Promise<void> {
    this.query = { key, from, to, filter }
    this.rows = []
    this.next = null
    await this.load()
  }

  private async load(): Promise<void> {
    const query = this.query!
    const page = await fetchRequests(query.key, query.from, query.to, query.filter, this.next ?? undefined)
    // Asked again meanwhile (another filter chosen): this page belongs to a log no longer shown.
    if (query !== this.query) return
    this.rows.push(...page.rows)
    this.next = page.next
    this.more.hidden = !page.next
    this.box.replaceChildren(scrollBox(logTable(this.rows)))
  }
}

/** `2026-12-06 05:19:41`: UTC, as the ledger's days are; wraps at the space on a phone. */
const timeOf = (ts: number) => new Date(ts).toISOString().slice(0, 19).replace('T', ' ')

function logTable(rows: RequestRow[]): HTMLTableElement {
  return renderTable(
    'Requests, newest first',
    [
      { label: 'Time (UTC)', value: (row) => timeOf(row.ts), sort: (row) => row.ts },
      { label: 'Principal', value: (row) => row.principal },
      { label: 'Model', value: (row) => row.model, optional: true },
      { label: 'Surface', value: (row) => row.route, optional: true },
      { label: 'Outcome', value: (row) => row.outcome },
      { label: 'Error code', value: (row) => row.error_code ?? '', optional: true },
      {
        label: 'Tokens',
        value: (row) => formatCount(row.prompt_tokens + row.completion_tokens),
        title: (row) => `${formatCount(row.prompt_tokens)} prompt, ${formatCount(row.completion_tokens)} completion`,
        sort: (row) => row.prompt_tokens + row.completion_tokens,
        numeric: true,
        optional: true,
      },
      {
        label: 'Cost',
        value: (row) => formatUsd(row.cost_usd),
        title: (row) => exactUsd(row.cost_usd),
        sort: (row) => row.cost_usd,
        numeric: true,
      },
      {
        label: 'First token',
        value: (row) => formatMs(row.ttft_ms),
        sort: (row) => row.ttft_ms ?? -1,
        numeric: true,
        optional: true,
      },
      {
        label: 'Duration',
        value: (row) => formatMs(row.duration_ms),
        sort: (row) => row.duration_ms,
        numeric: true,
        optional: true,
      },
    ],
    rows,
  )
}
