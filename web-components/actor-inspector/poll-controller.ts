/**
 * Runs a task now and then every `everyMs` while the host is in the document and the page is
 * visible; one run at a time, the next one timed from the end of the last (a slow answer never
 * stacks requests up). A tab that becomes visible again runs it at once.
 */
import type { ReactiveController, ReactiveControllerHost } from "lit"

export class PollController implements ReactiveController {
  #connected = false
  #stopped = false
  #running = false
  #again = false
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(
    host: ReactiveControllerHost,
    private readonly everyMs: () => number,
    private readonly task: () => Promise<void>
  ) {
    host.addController(this)
  }

  hostConnected(): void {
    this.#connected = true
    document.addEventListener("visibilitychange", this.#onVisibility)
    this.now()
  }

  hostDisconnected(): void {
    this.#connected = false
    document.removeEventListener("visibilitychange", this.#onVisibility)
    clearTimeout(this.#timer)
  }

  /** Runs the task now (after the run in flight, if one is), and goes on polling. */
  now(): void {
    this.#stopped = false
    this.#run()
  }

  /** No more runs until `now()` (someone who may not look: polling would only repeat the 403). */
  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
  }

  #run() {
    clearTimeout(this.#timer)
    if (this.#stopped || !this.#connected || document.visibilityState === "hidden") return
    if (this.#running) {
      this.#again = true
      return
    }
    this.#running = true
    this.#again = false
    void this.task().catch(() => undefined).finally(() => {
      this.#running = false
      if (this.#again) this.#run()
      else this.#schedule()
    })
  }

  #schedule() {
    clearTimeout(this.#timer)
    if (this.#stopped || !this.#connected || document.visibilityState === "hidden") return
    this.#timer = setTimeout(() => this.#run(), this.everyMs())
  }

  #onVisibility = () => {
    if (document.visibilityState === "hidden") clearTimeout(this.#timer)
    else this.#run()
  }
}
