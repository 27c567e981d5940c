import { describe, expect, it } from 'vitest'
import { workerdNoiseFilter } from './workerd-noise'

// Lines as workerd printed them in a run of this project's tests (native addresses shortened).
const STACK =
  'stack: /node_modules/@cloudflare/workerd-linux-64/bin/workerd@631ffc0 /node_modules/@cloudflare/workerd-linux-64/bin/workerd@6320111'
const ABORTED_READ = 'exception = kj/async-io.c++:1697: disconnected: abortRead() has been called'
const PIPE_ABORTED = 'exception = kj/async-io.c++:763: disconnected: read end of pipe was aborted'
const REFUSED = 'exception = rust/worker/ffi.rs:110: disconnected: Connection refused (os error 111)'
const LOST = 'uncaught exception; source = Uncaught (in promise); stack = Error: Network connection lost.'
const LOST_NATIVE =
  'uncaught exception; exception = workerd/jsg/value.h:1535: disconnected: jsg.Error: Network connection lost.'
// What must stay: a real error in the Worker or a test, with its JavaScript stack.
const REAL = [
  'uncaught exception; source = Uncaught (in promise); stack = RangeError: Maximum call stack size exceeded',
  '    at /test/security/failed-start.test.ts:163:111',
]

describe('workerdNoiseFilter', () => {
  it("drops workerd's traces of connections that went away, each with its stack line", () => {
    const filter = workerdNoiseFilter()
    const noise = [ABORTED_READ, STACK, PIPE_ABORTED, STACK, REFUSED, STACK, LOST, LOST_NATIVE, STACK]
    // As the plugin writes them: one message per write.
    expect(noise.map((line) => filter(`${line}\n`)).join('')).toBe('')
    // Or several in one write.
    expect(filter(noise.map((line) => `${line}\n`).join(''))).toBe('')
  })

  it('keeps a real error, its stack, and everything around the noise', () => {
    const filter = workerdNoiseFilter()
    const written = [
      ' ✓  workers  test/routes/chat.test.ts (14 tests)',
      ABORTED_READ,
      STACK,
      ...REAL,
      'console warning; x',
      '',
    ]
    expect(filter(written.join('\n'))).toBe(
      [' ✓  workers  test/routes/chat.test.ts (14 tests)', ...REAL, 'console warning; x', ''].join('\n'),
    )
  })

  it('keeps a stack line that follows anything it kept', () => {
    const filter = workerdNoiseFilter()
    const other = 'exception = kj/async-io.c++:1: failed: something else went wrong'
    expect(filter(`${other}\n${STACK}\n`)).toBe(`${other}\n${STACK}\n`)
  })
})
