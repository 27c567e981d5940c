import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'

const ROOT = new URL('../', import.meta.url).pathname

/** A Worker's gzipped size in KiB, as `wrangler deploy --dry-run` would upload it (`config` as a contender names it). */
export function bundleGzipKiB(config: string | undefined): number {
  const outdir = mkdtempSync(join(tmpdir(), 'bench-bundle-'))
  const args = [join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', outdir]
  if (config) args.push('--config', resolve(ROOT, config))
  execFileSync(process.execPath, args, { cwd: ROOT, stdio: 'ignore' })
  let bytes = 0
  for (const file of readdirSync(outdir, { recursive: true }) as string[]) {
    const path = join(outdir, file)
    if (/\.(m?js|wasm)$/.test(file) && statSync(path).isFile()) bytes += gzipSync(readFileSync(path)).length
  }
  return bytes / 1024
}
