/**
 * Transactions PostgreSQL aborted to break a deadlock (40P01) or a serialization conflict (40001)
 * did nothing and may simply run again: that is PostgreSQL's own advice, and no client should see
 * a 5xx for two of its requests racing each other.
 */
import type { SqlError } from "@effect/sql"
import { Effect, Schedule } from "effect"

const RETRIABLE = new Set(["40P01", "40001"])

const sqlState = (error: SqlError.SqlError): string | undefined => {
  const cause = error.cause as { readonly code?: unknown } | undefined
  return typeof cause?.code === "string" ? cause.code : undefined
}

/** Runs a transaction again (up to 5 more times, with a short jittered backoff) when PostgreSQL aborted it as a loser. */
export const retryAborted = <A, E, R>(transaction: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.retry(transaction, {
    schedule: Schedule.exponential("20 millis").pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(5))),
    while: (e) =>
      typeof e === "object" && e !== null && "_tag" in e && e._tag === "SqlError" &&
      RETRIABLE.has(sqlState(e as unknown as SqlError.SqlError) ?? "")
  })
