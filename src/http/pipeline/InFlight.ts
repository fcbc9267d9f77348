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
