import { workerdNoiseFilter } from './workerd-noise'

/**
 * Vitest global setup for the workers project: keeps workerd's expected connection-lost traces
 * (see workerd-noise.ts) out of the run's output. The Cloudflare Vitest plugin writes workerd's
 * logs to this process's stdout and stderr itself and takes no option to filter them, so the
 * filter sits on those two streams, for this run only.
 */
export default function setup(): () => void {
  const restore = [process.stdout, process.stderr].map((stream) => {
    const write = stream.write
    const filter = workerdNoiseFilter()
    stream.write = function (chunk: unknown, ...rest: unknown[]) {
      if (typeof chunk === 'string') chunk = filter(chunk)
      // Everything dropped: nothing to write, but a caller waiting on the callback still gets it.
      if (chunk === '') {
        const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined
        callback?.()
        return true
      }
      return (write as (...args: unknown[]) => boolean).call(stream, chunk, ...rest)
    } as typeof stream.write
    return () => (stream.write = write)
  })
  return () => restore.forEach((undo) => undo())
}
