import { applyD1Migrations, env, type D1Migration } from 'cloudflare:test'

// Every test file starts with fresh storage: the usage ledger's schema, as `wrangler d1
// migrations apply` would leave it. `TEST_MIGRATIONS` is migrations/, read by vitest.config.ts
// (a binding of the tests only, so not in the Worker's generated `Env`).
const { TEST_MIGRATIONS } = env as unknown as { TEST_MIGRATIONS: D1Migration[] }
await applyD1Migrations(env.USAGE_DB, TEST_MIGRATIONS)
