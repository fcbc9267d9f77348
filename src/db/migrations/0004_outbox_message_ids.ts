import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Outbox ids become text: commands and inbox frames use ids derived from what they are about
 * (`<postId>:ready`), so a retried transaction cannot enqueue the same message twice.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE outbox ALTER COLUMN event_id TYPE text USING event_id::text`
})
