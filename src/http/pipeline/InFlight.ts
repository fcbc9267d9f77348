/**
 * Requests in flight on a transport, for a graceful shutdown: once closing, responses ask clients
 * to close, and `drain` waits (up to the grace period) until the last in-flight request is written.
 */
import { Deferred, Duration, Effect, Exit } from "effect"

export const makeInFlight = Effect.gen(function*() {
  const idle = yield* Deferred.make<void>()
  let count = 0
  let closing = false
  return {
    started: () => void count++,
    finished: () => {
      count--
      if (closing && count === 0) Deferred.unsafeDone(idle, Exit.void)
    },
    closing: () => closing,
    /** Marks the transport closing and waits for what is in flight, at most `graceMillis`. */
    drain: (graceMillis: number) =>
      Effect.suspend(() => {
        closing = true
        return count === 0 ? Effect.void : Deferred.await(idle).pipe(Effect.timeout(Duration.millis(graceMillis)), Effect.ignore)
      })
  }
})

/**
 * One request's abort and completion bookkeeping, as every transport's exchange needs it: abort
 * handlers run once the client is gone (a handler's failure never escapes into the transport's
 * callback), and `finish` reports the request done exactly once.
 */
export class ExchangeLifecycle {
  aborted = false
  private readonly abortHandlers: Array<() => void> = []
  private done = false

  constructor(private readonly finished: () => void) {}

  readonly onAbort = (f: () => void) => void this.abortHandlers.push(f)

  abort() {
    this.aborted = true
    for (const f of this.abortHandlers) {
      try {
        f()
      } catch {
        // a handler's cleanup must not escape into the transport
      }
    }
  }

  finish() {
    if (this.done) return
    this.done = true
    this.finished()
  }
}
