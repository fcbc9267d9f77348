/**
 * Transactions PostgreSQL aborted to break a deadlock (40P01) or a serialization conflict (40001)
 * did nothing and may simply run again: that is PostgreSQL's own advice, and no client should see
 * a 5xx for two of its requests racing each other. Repositories turn SQL errors into defects, so
 * the loser is recognised as a failure or as a defect.
 */
import { Data, Effect, Schedule } from "effect"

const RETRIABLE = new Set(["40P01", "40001"])

const isAbortedLoser = (u: unknown): boolean => {
  if (typeof u !== "object" || u === null || !("_tag" in u) || u._tag !== "SqlError") return false
  const cause = (u as { readonly cause?: { readonly code?: unknown } }).cause
  return typeof cause?.code === "string" && RETRIABLE.has(cause.code)
}

class Loser extends Data.TaggedError("Loser")<{ readonly defect: unknown }> {}

/** Runs a transaction again (up to 5 more times, with a short jittered backoff) when PostgreSQL aborted it as a loser. */
export const retryAborted = <A, E, R>(transaction: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  transaction.pipe(
    Effect.catchAllDefect((defect) => (isAbortedLoser(defect) ? Effect.fail(new Loser({ defect })) : Effect.die(defect))),
    Effect.retry({
      schedule: Schedule.exponential("20 millis").pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(5))),
      while: (e) => e instanceof Loser || isAbortedLoser(e)
    }),
    // still losing after the retries: the defect it was (the error mapping answers it with a 503)
    Effect.catchIf((e): e is Loser => e instanceof Loser, (e) => Effect.die(e.defect))
  ) as Effect.Effect<A, E, R>
