import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Fencing for actor partitions. `actor_fences` holds each partition's epoch: a node that takes a
 * partition's lease raises it (it only grows), and every PostgreSQL write an actor makes checks it
 * in the same transaction, so a node that lost the lease (paused, cut off) cannot write any more.
 * `actor_applied` holds, per actor, the MAILBOX sequence of the last command whose effects were
 * committed: a command delivered again after a failover is recognised and skipped.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE IF NOT EXISTS actor_fences (
      kind text NOT NULL,
      partition integer NOT NULL,
      epoch bigint NOT NULL,
      holder text NOT NULL,
      raised_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (kind, partition)
    )`
  yield* sql`
    CREATE TABLE IF NOT EXISTS actor_applied (
      kind text NOT NULL,
      key text NOT NULL,
      seq bigint NOT NULL,
      PRIMARY KEY (kind, key)
    )`
})
