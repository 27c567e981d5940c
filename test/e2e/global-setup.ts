import { applyLedgerMigrations } from './wrangler-dev'

/**
 * Before any e2e test: the usage ledger's schema in the local D1 every `wrangler dev` here shares
 * (`.wrangler/state`), so each one's queue consumer has its tables, as after `npm run dev`.
 */
export default async function setup(): Promise<void> {
  await applyLedgerMigrations()
}
