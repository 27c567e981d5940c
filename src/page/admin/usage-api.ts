/**
 * `GET /api/admin/usage` as the dashboard reads it (docs/usage.md has the route). Plain fetch:
 * the key goes in the Authorization header, never in the URL.
 */

export interface UsageRow {
  date?: string
  model?: string
  principal?: string
  kind?: string
  outcome?: string
  error_code?: string | null
  requests: number
  prompt_tokens: number
  completion_tokens: number
  reasoning_tokens: number
  cost_usd: number
  errors: number
  ttft_ms_p50: number | null
  ttft_ms_p95: number | null
}

export class UsageError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

export interface Usage {
  rows: UsageRow[]
  /** The models with a price: none, and every cost reads $0.00 for that reason. */
  priced_models: string[]
}

export async function fetchUsage(key: string, from: string, to: string, groupBy: string): Promise<Usage> {
  const query = new URLSearchParams({ from, to, group_by: groupBy })
  const response = await fetch(`/api/admin/usage?${query}`, { headers: { Authorization: `Bearer ${key}` } })
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null
    throw new UsageError(response.status, body?.error?.message ?? `The gateway answered ${response.status}.`)
  }
  return (await response.json()) as Usage
}
