/**
 * What workerd prints, on its own, when a connection goes away: many tests close one on purpose
 * (a client that leaves mid-answer, an upstream that resets or refuses), and for each workerd logs
 * the kj exception with a line of native addresses, about 200 lines a run that say nothing about
 * the tests. The filter drops exactly those: kj's `disconnected:` exceptions, the uncaught
 * "Network connection lost." that a refused connection becomes, and the `stack:` line right after
 * one. Anything else, a JavaScript error with its stack or any other exception, goes through.
 */
const EXPECTED = [
  // `exception = kj/async-io.c++:1697: disconnected: abortRead() has been called`, and the same
  // reported as uncaught: `uncaught exception; exception = workerd/jsg/value.h:…: disconnected: …`
  /^(?:uncaught exception; )?exception = \S+: disconnected: /,
  /^uncaught exception; source = Uncaught \(in promise\); stack = Error: Network connection lost\.$/,
]

/** A function that takes output as it is written and gives it back without the expected lines. */
export function workerdNoiseFilter(): (chunk: string) => string {
  let afterDropped = false
  return (chunk) =>
    chunk
      .split('\n')
      .filter((line, i, lines) => {
        // The piece after the last newline is not a line yet (or is empty): keep it as it is.
        if (i === lines.length - 1) return true
        const drop = EXPECTED.some((pattern) => pattern.test(line)) || (afterDropped && line.startsWith('stack: '))
        afterDropped = drop && !line.startsWith('stack: ')
        return !drop
      })
      .join('\n')
}
