import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * The W3C trace context (`traceparent`, `tracestate`) of the span that appended a row, so the
 * relay's publish — and everything the message causes — continues that trace. Null when tracing
 * is off or the row was written outside a span; no index: the relay reads them with the row.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE outbox ADD COLUMN IF NOT EXISTS trace_parent text, ADD COLUMN IF NOT EXISTS trace_state text`
})
