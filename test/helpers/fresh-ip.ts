/**
 * A caller address no other test in this run has used: anonymous callers are told apart by
 * `CF-Connecting-IP`, and a test whose slot or rate-limit count must start empty cannot share
 * one. A random last octet of 250 did collide (about one run in six with ten such tests: two
 * tests drew the same address, and the second found the first one's 60-second stream in its slot).
 * Documentation prefix 2001:db8::/32 (RFC 3849), the run's own random group, then a counter.
 */
const run = Math.floor(Math.random() * 0xffff).toString(16)
let next = 0

export function freshIp(): string {
  next += 1
  return `2001:db8:${run}::${next.toString(16)}`
}
