/**
 * Live frames for a component: subscribes while the host is connected to the document, and lets
 * the socket close when no component listens any more.
 */
import type { ReactiveController, ReactiveControllerHost } from "lit"
import type { ApertureClient } from "../sdk/client.ts"
import type { SocketEvents } from "../sdk/socket.ts"

type Handlers = { readonly [K in keyof SocketEvents]?: (value: SocketEvents[K]) => void }

export class LiveController implements ReactiveController {
  #stops: Array<() => void> = []

  constructor(
    private readonly host: ReactiveControllerHost & { readonly client: ApertureClient },
    private readonly handlers: Handlers
  ) {
    host.addController(this)
  }

  hostConnected(): void {
    const client = this.host.client
    this.#stops.push(client.listen())
    for (const type of Object.keys(this.handlers) as Array<keyof SocketEvents>) {
      const handler = this.handlers[type] as ((value: unknown) => void) | undefined
      if (handler) this.#stops.push(client.socket.on(type, handler as never))
    }
  }

  hostDisconnected(): void {
    for (const stop of this.#stops.splice(0)) stop()
  }
}
