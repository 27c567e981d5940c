/**
 * Preloaded (`node --import`) into a peer gateway the benchmark runs, so that it listens on
 * 127.0.0.1 only: Portkey's server calls `listen(port, undefined)`, which would take every
 * interface. A listen call naming any other host fails, rather than open a port to the network.
 */
import { Server } from 'node:net'

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1'])
const listen = Server.prototype.listen

Server.prototype.listen = function listenOnLoopback(this: Server, ...args: unknown[]) {
  if (typeof args[0] === 'number' && (args[1] === undefined || typeof args[1] === 'function')) {
    args.splice(1, args[1] === undefined ? 1 : 0, '127.0.0.1')
  } else if (!(typeof args[0] === 'number' && typeof args[1] === 'string' && LOOPBACK.has(args[1]))) {
    throw new Error(`loopback-only: refusing listen(${args.map(String).join(', ')})`)
  }
  return listen.apply(this, args as Parameters<typeof listen>)
} as typeof listen
