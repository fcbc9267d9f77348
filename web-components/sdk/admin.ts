/**
 * The admin side of the SDK: the actor inspector's REST calls and its live tail on the socket
 * (`observe` / `unobserve`). The shapes are the server's (`src/domain/Inspector.ts`), imported as
 * types only, so the bundle carries none of its code. Every call answers 403 (`ApiError` with code
 * `Forbidden`, or an `error` frame on the socket) for someone who is not an admin.
 */
import type { ActorDetail, ActorsOverview, ActorSummary, HandledCommand, ObserveFilter, ObserveStats, Tap } from "../../src/domain/Inspector.ts"
import { ApiError, query, type RestClient } from "./rest.ts"
import type { Frame, LiveSocket } from "./socket.ts"
import { extendClient } from "./client.ts"

export type { ActorDetail, ActorsOverview, ActorSummary, HandledCommand, ObserveFilter, ObserveStats, Tap }

/** What the server answered an `observe`: the filter it applies (null after `unobserve`) and the most it sends a second. */
export interface Observing {
  readonly filter: ObserveFilter | null
  readonly maxPerSecond: number
}

export interface ObserveHandlers {
  /** The server took the filter (again after every reconnect). */
  readonly onObserving?: (observing: Observing) => void
  /** The socket dropped: the tail is off until it is back (then `observe` is sent again by itself). */
  readonly onDisconnected?: () => void
  /** The server refused: `Forbidden` for someone who is not an admin, or a filter it would not take. */
  readonly onError?: (error: ApiError) => void
}

const id = encodeURIComponent

export class AdminClient {
  /** The observation this socket carries: the server keeps one filter per socket, so one at a time. */
  #current: symbol | undefined
  /** Whether the server holds a filter for this connection (it forgets it when the socket closes). */
  #filtered = false

  constructor(
    private readonly rest: RestClient,
    private readonly socket: LiveSocket,
    /** Keeps the socket open while the tail runs (the client's `listen`). */
    private readonly listen: () => () => void
  ) {
    socket.on("status", (status) => {
      if (status !== "open") this.#filtered = false
    })
  }

  /** The cluster at a glance: nodes, partitions, kinds, the hottest actors, streams, dead letters. */
  actors(options: { readonly limit?: number } = {}, signal?: AbortSignal) {
    return this.rest.request<ActorsOverview>("GET", `/admin/actors${query({ limit: options.limit })}`, undefined, signal)
  }

  /** One actor: where it lives, its figures, its described state and its recent commands. */
  actor(kind: string, key: string, signal?: AbortSignal) {
    return this.rest.request<ActorDetail>("GET", `/admin/actors/${id(kind)}/${id(key)}`, undefined, signal)
  }

  /**
   * Tails actor commands and domain events matching `filter`, until the returned function is
   * called. The filter is sent whenever the socket (re)opens, since the server forgets it with the
   * socket. A later `observe` replaces this one (as on the server): this one then hears nothing
   * more and stopping it does nothing.
   */
  observe(filter: ObserveFilter, onTap: (tap: Tap) => void, onStats: (stats: ObserveStats) => void, handlers: ObserveHandlers = {}): () => void {
    const me = Symbol("observe")
    this.#current = me
    const mine = () => this.#current === me
    // an error frame answers the observe just sent, or says Forbidden whenever it comes
    let awaitingAnswer = false
    // taps that come between a changed filter and its `observing` matched the filter before
    let stale = false
    const send = () => {
      stale = this.#filtered
      awaitingAnswer = this.socket.send("observe", filter)
      this.#filtered ||= awaitingAnswer
    }
    const offFrame = this.socket.on("frame", (frame: Frame) => {
      if (!mine()) return
      switch (frame.type) {
        case "observed":
          return stale ? undefined : onTap(frame.payload as Tap)
        case "observe_stats":
          return onStats(frame.payload as ObserveStats)
        case "observing":
          awaitingAnswer = false
          stale = false
          return handlers.onObserving?.(frame.payload as Observing)
        case "error": {
          const { code, message } = frame.payload as { code: string; message: string }
          if (!awaitingAnswer && code !== "Forbidden") return
          awaitingAnswer = false
          return handlers.onError?.(new ApiError(code === "Forbidden" ? 403 : 400, code, message))
        }
      }
    })
    const offStatus = this.socket.on("status", (status) => {
      if (!mine()) return
      if (status === "open") send()
      else handlers.onDisconnected?.()
    })
    const release = this.listen()
    if (this.socket.connected) send()
    return () => {
      offFrame()
      offStatus()
      if (mine()) {
        this.#current = undefined
        this.socket.send("unobserve", {})
        this.#filtered = false
      }
      release()
    }
  }
}

declare module "./client.ts" {
  interface ApertureClient {
    /** Admins only: the actor inspector's overview, one actor's detail, and the live tail (present once `sdk/admin.ts` is imported). */
    readonly admin: AdminClient
  }
}
extendClient("admin", (c) => new AdminClient(c.rest, c.socket, () => c.listen()))
