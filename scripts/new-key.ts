/**
 * `npm run key:new -- NAME [--write] [--config PATH]`: prints a fresh API key (give it to the caller, once) and
 * the table that lets it in, which holds only the key's SHA-256. With `--write`, the table is
 * appended to the end of wrangler.toml (or the file `--config` names). The key itself is never
 * written anywhere.
 *
 * The end of the file, because in TOML every `name = value` line after a table's header belongs
 * to that table: pasted under `[vars]`, the key's table would swallow every variable after it.
 */
import { appendFileSync, readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { generateApiKey, hashApiKey } from '../src/access/api-key.ts'

const usage = 'usage: npm run key:new -- NAME [--write] [--config PATH]   (NAME: letters, digits, _ and -, at most 64)'
let parsed
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: { write: { type: 'boolean', default: false }, config: { type: 'string' } },
  })
} catch {
  console.error(usage)
  process.exit(2)
}
const { write } = parsed.values
const WRANGLER_TOML = parsed.values.config ?? new URL('../wrangler.toml', import.meta.url)
const tomlName = parsed.values.config ?? 'wrangler.toml'
const [name, ...extra] = parsed.positionals
if (!name || extra.length || !/^[\w-]{1,64}$/.test(name)) {
  console.error(usage)
  process.exit(2)
}

const header = `[vars.API_KEYS.${name}]`
if (
  write &&
  readFileSync(WRANGLER_TOML, 'utf8')
    .split('\n')
    .some((line) => line.trim() === header)
) {
  console.error(`${tomlName} already has ${header}: remove it first, or choose another name.`)
  process.exit(1)
}

const key = generateApiKey()
const table = `${header}
sha256 = "${await hashApiKey(key)}"
models = ["demo"]              # the models it may use, or ["*"] for all of them
daily_tokens = 1000000         # prompt + completion tokens per UTC day; remove for no budget
concurrent_streams = 4         # answers streaming at once; remove for no limit
`

console.log(`API key for "${name}" (shown once; the gateway keeps only its hash):

  ${key}
`)
if (write) {
  appendFileSync(WRANGLER_TOML, `\n# API key "${name}", added by \`npm run key:new\`.\n${table}`)
  console.log(`Appended to the end of ${tomlName}; choose its models and limits there:\n\n${table}`)
} else {
  // Not "run again with --write": a second run makes a different key, and this one would be useless.
  console.log(`The key works once this table is at the END of wrangler.toml (--write appends it for you; a
second run makes a different key). Then choose its models and limits:

${table}`)
}
