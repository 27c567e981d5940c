import { describe, expect, it } from 'vitest'
import { hasAwakeKey, pickKey, restKey } from '../../src/pipeline/key-pool'

describe('the key pool', () => {
  it('spreads requests across the keys in turn', () => {
    const keys = ['A', 'B', 'C']
    expect([1, 2, 3, 4].map(() => pickKey('turns', keys, 0))).toEqual(['A', 'B', 'C', 'A'])
  })

  it('passes over a resting key until its rest ends', () => {
    const keys = ['A', 'B']
    restKey('rests', 'A', 1000, 0)
    expect([1, 2, 3].map(() => pickKey('rests', keys, 10))).toEqual(['B', 'B', 'B'])
    expect(hasAwakeKey('rests', keys, 10)).toBe(true)
    expect(pickKey('rests', keys, 1000)).toBe('A')
  })

  it('when every key rests, uses the one that wakes first', () => {
    const keys = ['A', 'B']
    restKey('all-rest', 'A', 5000, 0)
    restKey('all-rest', 'B', 1000, 0)
    expect(hasAwakeKey('all-rest', keys, 10)).toBe(false)
    expect(pickKey('all-rest', keys, 10)).toBe('B')
  })

  it('a model with one key, or none, always uses it', () => {
    expect(pickKey('single', ['ONLY'])).toBe('ONLY')
    expect(pickKey('keyless', [])).toBeUndefined()
  })
})
