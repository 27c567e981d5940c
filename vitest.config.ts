import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // The gateway logs a JSON line per answer and refusal: shown for a failing test, where it
    // explains what happened, and kept out of a passing run's report.
    silent: 'passed-only',
    // Vitest lists each test slower than this, with its describe blocks. Tests that wait on a
    // Durable Object, a queue, a real timer or `wrangler dev` often pass 300 ms (the default) on a
    // busy machine, and listing them all doubled the workers run's output. Listed: past a second.
    slowTestThreshold: 1000,
    projects: [
      {
        // Unit and route tests, run inside workerd: the real Workers runtime, not Node.
        // The usage ledger's D1 schema (migrations/) is applied to each test file's fresh storage.
        plugins: [
          cloudflareTest(async () => ({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: { bindings: { TEST_MIGRATIONS: await readD1Migrations('./migrations') } },
          })),
        ],
        test: {
          name: 'workers',
          include: ['test/**/*.test.ts'],
          exclude: ['test/e2e/**'],
          setupFiles: ['./test/helpers/apply-migrations.ts'],
          // workerd's own traces of connections the tests close on purpose, left out of the output.
          globalSetup: ['./test/helpers/quiet-workerd.ts'],
        },
      },
      {
        // End-to-end: `wrangler dev` and a loopback upstream, driven from Node as a client would.
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['./test/e2e/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
})
