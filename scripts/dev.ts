/**
 * `npm run dev [-- WRANGLER_DEV_FLAGS]`: applies the usage ledger's migrations (migrations/) to the
 * local D1, then starts `wrangler dev` with the flags given. It never stops to ask.
 *
 * `wrangler d1 migrations apply` asks "About to apply N migration(s)… continue? (Y/n)" whenever
 * both its stdin and stdout are a terminal and it does not think it runs in CI, and it has no flag
 * to skip the question. Run from a terminal, the first `npm run dev` waited for that answer. Given
 * no stdin, wrangler takes its documented non-interactive path: it prints the question and answers
 * yes itself. The migrations are local and idempotent, so there is nothing to confirm.
 *
 * A `--persist-to DIR` flag goes to both commands, so the migrations land in the database
 * `wrangler dev` then serves.
 */
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const WRANGLER = fileURLToPath(new URL('../node_modules/wrangler/bin/wrangler.js', import.meta.url))
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const devArgs = process.argv.slice(2)

/** The `--persist-to` flag among the arguments, in either spelling, ready to pass on. */
function persistToFlag(args: string[]): string[] {
  const at = args.findIndex((arg) => arg === '--persist-to' || arg.startsWith('--persist-to='))
  if (at === -1) return []
  return args[at]!.includes('=') ? [args[at]!] : args.slice(at, at + 2)
}

const migrations = spawnSync(
  process.execPath,
  [WRANGLER, 'd1', 'migrations', 'apply', 'USAGE_DB', '--local', ...persistToFlag(devArgs)],
  { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
)
if (migrations.status !== 0) process.exit(migrations.status ?? 1)

const dev = spawn(process.execPath, [WRANGLER, 'dev', ...devArgs], { cwd: ROOT, stdio: 'inherit' })
// Ctrl+C reaches wrangler too (the terminal signals the whole process group): wait for it to
// shut workerd down instead of leaving before it. A signal sent to this process alone is passed on.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (signal !== 'SIGINT') dev.kill(signal)
  })
}
dev.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
