/**
 * The live tail's rows: the newest `capacity` taps, newest first. Pausing freezes what is shown
 * while the rows keep coming (bounded all the same) and are counted; resuming shows the newest.
 */
import type { Tap } from "../sdk/admin.ts"

export interface TailRow {
  /** Unique within the buffer: the key a keyed list renders by. */
  readonly id: number
  readonly tap: Tap
}

export class TailBuffer {
  /** Oldest first; trimmed to `capacity` in steps, so a push costs O(1) amortized. */
  #rows: Array<TailRow> = []
  #nextId = 0
  #view: ReadonlyArray<TailRow> | undefined
  #frozen: ReadonlyArray<TailRow> | undefined
  /** Taps since the last clear. */
  received = 0
  /** Taps since the tail was paused (0 while it runs). */
  whilePaused = 0

  /** Rows kept (and shown); a smaller one takes effect with the next push. */
  constructor(public capacity = 500) {}

  get paused(): boolean {
    return this.#frozen !== undefined
  }

  /** Adds the newest taps; `arrived` counts those a caller already let go to stay bounded as well. */
  push(taps: ReadonlyArray<Tap>, arrived = taps.length): void {
    this.received += arrived
    if (this.paused) this.whilePaused += arrived
    if (taps.length === 0) return
    for (const tap of taps) this.#rows.push({ id: this.#nextId++, tap })
    if (this.#rows.length > this.capacity * 2) this.#rows = this.#rows.slice(-this.capacity)
    this.#view = undefined
  }

  /** What to show, newest first: at most `capacity` rows (the same array until something changes). */
  get rows(): ReadonlyArray<TailRow> {
    if (this.#frozen) return this.#frozen
    return (this.#view ??= this.#rows.slice(-this.capacity).reverse())
  }

  pause(): void {
    if (!this.paused) this.#frozen = this.rows
  }

  resume(): void {
    this.#frozen = undefined
    this.whilePaused = 0
  }

  clear(): void {
    this.#rows = []
    this.#view = undefined
    if (this.paused) this.#frozen = []
    this.received = 0
    this.whilePaused = 0
  }
}
