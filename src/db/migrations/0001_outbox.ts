import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * The transactional outbox. `outbox_pending` is partial so the relay's "next pending rows in id
 * order" scan and the backlog gauge touch only unpublished rows, however large the table grows.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE IF NOT EXISTS outbox (
      id           bigserial PRIMARY KEY,
      event_id     uuid NOT NULL UNIQUE,
      subject      text NOT NULL,
      payload      jsonb NOT NULL,
      created_at   timestamptz NOT NULL DEFAULT now(),
      published_at timestamptz
    )`
  yield* sql`CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (id) WHERE published_at IS NULL`
  yield* sql`CREATE INDEX IF NOT EXISTS outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL`
})
