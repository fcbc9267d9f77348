import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Dead letters: a message a consumer gave up on (an EVENTS event after its last delivery, a media
 * job that cannot succeed), kept with its original subject and payload so an admin can list and
 * replay it. `dedup_key` names the failed delivery (`ev:<consumer>:<stream seq>`), so recording it
 * twice — a retried transaction, a redelivery after a crash mid-record — keeps one row.
 * `replayed_at` is set once, by the replay that re-publishes it.
 * Listing is newest first, optionally by source or consumer: the two indexes serve those pages.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE dead_letters (
      id           bigserial PRIMARY KEY,
      dedup_key    text NOT NULL UNIQUE,
      source       text NOT NULL CHECK (source IN ('events', 'media', 'mailbox')),
      consumer     text NOT NULL,
      subject      text NOT NULL,
      payload      jsonb NOT NULL,
      error        text NOT NULL,
      deliveries   integer NOT NULL,
      stream_seq   bigint,
      published_at timestamptz,
      failed_at    timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
      replayed_at  timestamptz
    )`
  yield* sql`CREATE INDEX dead_letters_source ON dead_letters (source, id DESC)`
  yield* sql`CREATE INDEX dead_letters_consumer ON dead_letters (consumer, id DESC)`
})
