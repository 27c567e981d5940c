const utf8 = new TextEncoder()

/** The bytes of `text` cut at the given offsets, as a network might deliver them. */
export function splitAt(text: string | Uint8Array, offsets: number[]): Uint8Array[] {
  const bytes = typeof text === 'string' ? utf8.encode(text) : text
  const cuts = [0, ...offsets.filter((o) => o > 0 && o < bytes.length).sort((a, b) => a - b), bytes.length]
  const pieces: Uint8Array[] = []
  for (let i = 1; i < cuts.length; i++) pieces.push(bytes.slice(cuts[i - 1], cuts[i]))
  return pieces
}

/** A small deterministic PRNG (mulberry32), so a failing random split can be reproduced from its seed. */
export function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `count` random cut offsets inside a body of `length` bytes. */
export function randomOffsets(length: number, count: number, next: () => number): number[] {
  return Array.from({ length: count }, () => 1 + Math.floor(next() * (length - 1)))
}
