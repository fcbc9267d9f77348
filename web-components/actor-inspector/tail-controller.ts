/**
 * The live tail of a component: observes through the SDK while the host is connected and a tail
 * was started, and hands taps to the host at most once per animation frame, however many arrive
 * (a busy cluster sends hundreds a second; rendering each one would be the bottleneck).
 */
import type { ReactiveController, ReactiveControllerHost } from "lit"
import type { ObserveFilter, ObserveStats, Tap } from "../sdk/admin.ts"
import type { ApertureClient } from "../sdk/client.ts"
import type { ApiError } from "../sdk/rest.ts"
import { TailBuffer } from "./tail-buffer.ts"
import "../sdk/admin.ts"

export type TailState = "off" | "connecting" | "observing" | "refused"

const nextFrame = (f: () => void): void => {
  if (typeof requestAnimationFrame === "function") requestAnimationFrame(f)
  else setTimeout(f, 16)
}

export class TailController implements ReactiveController {
  readonly buffer: TailBuffer
  filter: ObserveFilter = {}
  state: TailState = "off"
  /** The server's cap on taps a second for this socket (from `observing`). */
  maxPerSecond: number | null = null
  stats: ObserveStats | null = null
  /** The server's refusal (`Forbidden`, or a filter it would not take). */
  refusal: ApiError | null = null
  #wanted = false
  #stop: (() => void) | undefined
  #pending: Array<Tap> = []
  /** Taps since the last frame, kept or not. */
  #arrived = 0
  #scheduled = false

  constructor(
    private readonly host: ReactiveControllerHost & { readonly client: ApertureClient; readonly isConnected: boolean },
    /** The server refused (after the state changed to "refused"). */
    private readonly onRefused: (error: ApiError) => void = () => undefined,
    capacity = 500
  ) {
    this.buffer = new TailBuffer(capacity)
    host.addController(this)
  }

  /** Tails `filter` from now on (replacing what was tailed before). */
  start(filter: ObserveFilter = this.filter): void {
    this.filter = filter
    this.#wanted = true
    this.refusal = null
    if (this.host.isConnected) this.#observe()
  }

  stop(): void {
    this.#wanted = false
    this.#unobserve()
    this.state = "off"
    this.host.requestUpdate()
  }

  hostConnected(): void {
    if (this.#wanted && this.#stop === undefined) this.#observe()
  }

  hostDisconnected(): void {
    this.#unobserve()
  }

  #observe() {
    // the new observe replaces the old one on the server: stopping the old after it sends no unobserve
    const previous = this.#stop
    this.state = "connecting"
    this.host.requestUpdate()
    this.#stop = this.host.client.admin.observe(this.filter, (tap) => this.#onTap(tap), (stats) => {
      this.stats = stats
      this.host.requestUpdate()
    }, {
      onObserving: (o) => {
        this.state = "observing"
        this.maxPerSecond = o.maxPerSecond
        this.host.requestUpdate()
      },
      onDisconnected: () => {
        if (this.state === "refused") return
        this.state = "connecting"
        this.host.requestUpdate()
      },
      onError: (error) => {
        this.refusal = error
        this.state = "refused"
        if (error.code === "Forbidden") this.#wanted = false
        this.#unobserve()
        this.host.requestUpdate()
        this.onRefused(error)
      }
    })
    previous?.()
  }

  #unobserve() {
    const stop = this.#stop
    this.#stop = undefined
    stop?.()
  }

  #onTap(tap: Tap) {
    this.#arrived++
    this.#pending.push(tap)
    // a hidden tab runs no animation frames: keep only what could ever be shown
    if (this.#pending.length > this.buffer.capacity * 2) this.#pending = this.#pending.slice(-this.buffer.capacity)
    if (this.#scheduled) return
    this.#scheduled = true
    nextFrame(() => {
      this.#scheduled = false
      const taps = this.#pending
      const arrived = this.#arrived
      this.#pending = []
      this.#arrived = 0
      this.buffer.push(taps, arrived)
      this.host.requestUpdate()
    })
  }
}
