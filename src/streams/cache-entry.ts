import type { StreamMeta } from './event-log'

/**
 * What an answer's object holds, seen as a cache entry (docs/cache.md): an answer still being
 * made (`running`: an identical request joins it), a complete answer within its time to live
 * (`fresh`: a hit), or one that must never be served (`stale`: it failed, was stopped or cut, or
 * outlived its time to live, whose alarm may not have fired yet).
 */
export type CacheEntry = 'running' | 'fresh' | 'stale'

export function cacheEntry(meta: StreamMeta, now: number): CacheEntry {
  if (meta.state === 'running') return 'running'
  if (meta.endedWith !== 'done') return 'stale'
  return now < meta.endedAt! + meta.retentionMs ? 'fresh' : 'stale'
}
