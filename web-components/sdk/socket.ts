/**
 * The WebSocket half of the SDK: one socket to `/ws`, reconnected after any drop with
 * exponential backoff and jitter (capped, unlimited attempts). It remembers the last inbox
 * sequence it saw (a frame's `id`) and, on every reconnect, asks for what it missed with
 * `{"type":"resume","payload":{"sinceSeq":…}}`. Frames come out of a typed emitter. A close with
 * 4401 (the session ended: logged out, expired, revoked) is the one it does not retry: it goes
 * idle until `start()` is called again after signing in.
 */
import type { ControlPayloads, InboxPayloads } from "../../src/domain/Ws.ts"
import type { DmPayloads } from "./dm.ts"
import type { StoryPayloads } from "./stories.ts"
import { Emitter } from "./emitter.ts"

export interface Frame<P = unknown, T extends string = string> {
  readonly type: T
  /** The inbox sequence for resumable events; null for control frames. */
  readonly id: number | null
  readonly ts: string
  readonly payload: P
}

type Payloads = InboxPayloads & ControlPayloads & DmPayloads & StoryPayloads

/** The server's close code for a socket whose session ended (CloseCode.sessionEnded). */
const SESSION_ENDED = 4401

export type SocketStatus = "idle" | "connecting" | "open" | "waiting"

export type SocketEvents = { readonly [K in keyof Payloads]: Frame<Payloads[K], K & string> } & {
  readonly frame: Frame
  readonly status: SocketStatus
}

export interface SocketOptions {
  /** The URL to connect to, asked anew before every attempt (a ticket is single-use). */
  readonly url: () => Promise<string> | string
  readonly WebSocket?: typeof WebSocket
  /** First retry delay; it doubles per failed attempt up to `maxDelayMs`. */
  readonly baseDelayMs?: number
  readonly maxDelayMs?: number
  readonly random?: () => number
}

/**
 * The delay before reconnect attempt `attempt` (0-based): exponential, capped, and with "equal
 * jitter" — half fixed, half random — so that a server restart does not bring every client back
 * in the same instant while no client retries in a tight loop.
 */
export const backoffDelay = (attempt: number, baseMs: number, capMs: number, random: () => number = Math.random) => {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30))
  return Math.round(ceiling / 2 + random() * (ceiling / 2))
}

export class LiveSocket extends Emitter<SocketEvents> {
  readonly #options: SocketOptions
  #ws: WebSocket | undefined
  #wanted = false
  #attempt = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  #status: SocketStatus = "idle"
  /** The highest inbox sequence seen; sent back in `resume` after a reconnect. */
  lastSeq: number | undefined

  constructor(options: SocketOptions) {
    super()
    this.#options = options
  }

  get status(): SocketStatus {
    return this.#status
  }
  get connected(): boolean {
    return this.#status === "open"
  }

  start(): void {
    if (this.#wanted) return
    this.#wanted = true
    this.#attempt = 0
    void this.#connect()
  }

  stop(): void {
    this.#wanted = false
    clearTimeout(this.#timer)
    const ws = this.#ws
    this.#ws = undefined
    ws?.close(1000, "client stopped")
    this.#setStatus("idle")
  }

  /** Skips the wait before the next attempt (the tab came back, the network is up again). */
  reconnectNow(): void {
    if (!this.#wanted || this.#status === "open" || this.#status === "connecting") return
    clearTimeout(this.#timer)
    void this.#connect()
  }

  send(type: string, payload?: unknown): boolean {
    if (this.#ws === undefined || this.#status !== "open") return false
    this.#ws.send(JSON.stringify(payload === undefined ? { type } : { type, payload }))
    return true
  }

  #setStatus(status: SocketStatus) {
    if (this.#status === status) return
    this.#status = status
    this.emit("status", status)
  }

  async #connect() {
    this.#setStatus("connecting")
    let url: string
    try {
      url = await this.#options.url()
    } catch {
      return this.#retry()
    }
    if (!this.#wanted) return
    const Ws = this.#options.WebSocket ?? WebSocket
    const ws = new Ws(url)
    this.#ws = ws
    ws.onopen = () => {
      if (this.#ws !== ws) return
      this.#attempt = 0
      this.#setStatus("open")
      if (this.lastSeq !== undefined) this.send("resume", { sinceSeq: this.lastSeq })
    }
    ws.onmessage = (event) => {
      if (this.#ws !== ws) return
      let frame: Frame
      try {
        frame = JSON.parse(String(event.data)) as Frame
      } catch {
        return
      }
      if (typeof frame.id === "number") this.lastSeq = Math.max(this.lastSeq ?? 0, frame.id)
      if (frame.type === "hello" && this.lastSeq === undefined) {
        this.lastSeq = (frame.payload as ControlPayloads["hello"]).inboxSeq
      }
      this.emit("frame", frame)
      this.emit(frame.type as keyof Payloads, frame as never)
    }
    ws.onclose = (event) => {
      if (this.#ws !== ws) return
      this.#ws = undefined
      if (event?.code === SESSION_ENDED) {
        this.#wanted = false
        return this.#setStatus("idle")
      }
      this.#retry()
    }
  }

  #retry() {
    if (!this.#wanted) return this.#setStatus("idle")
    this.#setStatus("waiting")
    const delay = backoffDelay(this.#attempt++, this.#options.baseDelayMs ?? 500, this.#options.maxDelayMs ?? 30_000, this.#options.random)
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => void this.#connect(), delay)
  }
}
