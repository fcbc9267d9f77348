import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Idempotency keys (`Idempotency-Key` on creates): one row per user and key. A row is reserved
 * `in_flight` before the create runs and completed with the response it answered, which a repeat
 * with the same fingerprint gets again. `lease_until` bounds an in-flight reservation whose request
 * died (crash, lost node): once it has passed, a retry may take the key over. Rows older than
 * IDEMPOTENCY_TTL_HOURS are dead; `idempotency_keys_created` serves the sweep that deletes them.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE idempotency_keys (
      user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      key         text NOT NULL,
      method      text NOT NULL,
      path        text NOT NULL,
      fingerprint bytea,
      state       text NOT NULL CHECK (state IN ('in_flight', 'complete')),
      owner       uuid NOT NULL,
      lease_until timestamptz NOT NULL,
      status      integer,
      content_type text,
      body        bytea,
      created_at  timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, key)
    )`
  yield* sql`CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at)`
})
