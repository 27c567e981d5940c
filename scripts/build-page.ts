/**
 * `node scripts/build-page.ts`: bundles the chat page (src/page/) into public/app/, run by the
 * `[build]` step of wrangler.toml before every `wrangler dev` and `wrangler deploy`.
 *
 * `app.js` is what the page loads at once; code it needs only sometimes (syntax highlighting,
 * once an answer has a code block) is split into chunks it imports when needed. The build prints
 * the gzipped size of the initial JavaScript and fails past the budget, so the page cannot grow
 * slow to open without anyone noticing.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

/** What the page may load before it can be used, gzipped. */
const INITIAL_BUDGET_BYTES = 60 * 1024
const OUT_DIR = new URL('../public/app/', import.meta.url).pathname

const result = await build({
  entryPoints: { app: new URL('../src/page/chat-page.ts', import.meta.url).pathname },
  bundle: true,
  splitting: true,
  format: 'esm',
  minify: true,
  target: 'es2022',
  outdir: OUT_DIR,
  chunkNames: 'chunks/[name]-[hash]',
  metafile: true,
  write: false,
  logLevel: 'warning',
})

// Every build writes the same names for the same content, so writing over a running server's
// files is safe; chunks no build refers to any more are removed afterwards.
const written = new Set<string>()
for (const file of result.outputFiles) {
  mkdirSync(join(file.path, '..'), { recursive: true })
  writeFileSync(file.path, file.contents)
  written.add(file.path)
}
const chunksDir = join(OUT_DIR, 'chunks')
for (const name of existsSync(chunksDir) ? readdirSync(chunksDir) : []) {
  if (!written.has(join(chunksDir, name))) rmSync(join(chunksDir, name), { force: true })
}

/** The entry and every chunk it imports statically: all of it loads before the page runs. */
function initialFiles(): string[] {
  const outputs = result.metafile.outputs
  const entry = Object.keys(outputs).find((path) => outputs[path]!.entryPoint)!
  const seen = new Set<string>()
  const visit = (path: string) => {
    if (seen.has(path)) return
    seen.add(path)
    for (const imported of outputs[path]!.imports) if (imported.kind === 'import-statement') visit(imported.path)
  }
  visit(entry)
  return [...seen]
}

const gzipped = (path: string) => gzipSync(result.outputFiles.find((f) => f.path.endsWith(path))!.contents).length
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`
const initial = initialFiles()
const initialBytes = initial.reduce((sum, path) => sum + gzipped(path), 0)
const lazy = Object.keys(result.metafile.outputs).filter((path) => path.endsWith('.js') && !initial.includes(path))
const lazyBytes = lazy.reduce((sum, path) => sum + gzipped(path), 0)
console.log(
  `chat page: initial JavaScript ${kib(initialBytes)} gzipped (budget ${kib(INITIAL_BUDGET_BYTES)}), ` +
    `loaded when needed ${kib(lazyBytes)} in ${lazy.length} chunk${lazy.length === 1 ? '' : 's'}`,
)
if (initialBytes > INITIAL_BUDGET_BYTES) {
  console.error('chat page: the initial JavaScript is over its budget')
  process.exit(1)
}
