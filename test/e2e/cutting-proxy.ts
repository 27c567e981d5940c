import { once } from 'node:events'
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'

/**
 * A TCP proxy on 127.0.0.1 in front of the gateway, so a test can cut every connection through
 * it at a moment it chooses, as a mobile network or a sleeping laptop does.
 */
export class CuttingProxy {
  readonly #sockets = new Set<Socket>()
  #connections = 0
  readonly #server = createServer((client) => {
    this.#connections++
    const target = connect(this.targetPort, '127.0.0.1')
    for (const socket of [client, target]) {
      this.#sockets.add(socket)
      socket.on('close', () => this.#sockets.delete(socket))
      socket.on('error', () => {})
    }
    client.pipe(target).pipe(client)
    client.on('close', () => target.destroy())
    target.on('close', () => client.destroy())
  })

  constructor(private readonly targetPort: number) {}

  async start(): Promise<string> {
    this.#server.listen(0, '127.0.0.1')
    await once(this.#server, 'listening')
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  /** Connections made through the proxy so far. */
  get connections(): number {
    return this.#connections
  }

  /** Breaks every open connection at once, with a reset rather than a clean close. */
  cutAll(): void {
    for (const socket of this.#sockets) socket.resetAndDestroy()
  }

  stop(): void {
    this.cutAll()
    this.#server.close()
  }
}
