/**
 * Typing indicators, both ways: who else is typing (each shown until their frame's `expiresInMs`
 * runs out or their message arrives, without asking the server), and the reader's own `typing`
 * frames, sent at most once per `everyMs` while they type.
 */
import type { ReactiveController, ReactiveControllerHost } from "lit"

export class TypingController implements ReactiveController {
  /** Who is typing: user id → username. */
  typers: ReadonlyMap<string, string> = new Map()
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>()
  #sentAt = Number.NEGATIVE_INFINITY

  constructor(
    private readonly host: ReactiveControllerHost,
    /** Sends one `typing` frame; false when it could not (socket down), so the next keystroke tries again. */
    private readonly send: () => boolean,
    private readonly everyMs = 2_000
  ) {
    host.addController(this)
  }

  /** A `typing` frame from someone else. */
  heard(userId: string, username: string, expiresInMs: number): void {
    clearTimeout(this.#timers.get(userId))
    this.#timers.set(userId, setTimeout(() => this.stopped(userId), expiresInMs))
    if (this.typers.get(userId) === username) return
    this.typers = new Map(this.typers).set(userId, username)
    this.host.requestUpdate()
  }

  /** Their message came, or their indicator expired. */
  stopped(userId: string): void {
    clearTimeout(this.#timers.get(userId))
    this.#timers.delete(userId)
    if (!this.typers.has(userId)) return
    const typers = new Map(this.typers)
    typers.delete(userId)
    this.typers = typers
    this.host.requestUpdate()
  }

  /** The reader typed a character. */
  typed(): void {
    const now = Date.now()
    if (now - this.#sentAt >= this.everyMs && this.send()) this.#sentAt = now
  }

  /** "alice is typing…", "alice, bob are typing…", or "". */
  get text(): string {
    const names = [...this.typers.values()]
    return names.length === 0 ? "" : `${names.join(", ")} ${names.length === 1 ? "is" : "are"} typing…`
  }

  hostDisconnected(): void {
    for (const t of this.#timers.values()) clearTimeout(t)
    this.#timers.clear()
    this.typers = new Map()
  }
}
