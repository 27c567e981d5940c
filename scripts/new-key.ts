/**
 * `npm run key:new -- NAME`: prints a fresh API key (give it to the caller, once) and the block to
 * paste into wrangler.toml, which holds only the key's SHA-256. The key is never written anywhere.
 */
import { generateApiKey, hashApiKey } from '../src/access/api-key.ts'

const name = process.argv[2]
if (!name || !/^[\w-]{1,64}$/.test(name)) {
  console.error('usage: npm run key:new -- NAME   (letters, digits, _ and -, at most 64)')
  process.exit(2)
}

const key = generateApiKey()
const sha256 = await hashApiKey(key)

console.log(`API key for "${name}" (shown once; the gateway keeps only its hash):

  ${key}

Paste into wrangler.toml (after [vars]), then choose its models and limits:

[vars.API_KEYS.${name}]
sha256 = "${sha256}"
models = ["demo"]              # the models it may use, or ["*"] for all of them
daily_tokens = 1000000         # prompt + completion tokens per UTC day; remove for no budget
concurrent_streams = 4         # answers streaming at once; remove for no limit
`)
