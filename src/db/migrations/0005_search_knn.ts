import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * GiST trigram indexes for user search's fuzzy phase: `ORDER BY name <-> q LIMIT k` walks them
 * nearest-first and stops after k rows, where a GIN `%` scan must visit every candidate sharing a
 * trigram (hundreds of milliseconds for short or common terms at 100k users).
 * The username index is on `(username || '')`, not `username`: a GiST trigram index also answers
 * `=`, and on `username` itself the planner picked it (≈1 ms) over the unique btree (≈0.05 ms)
 * for every lookup by name. Search orders by the same expression.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE INDEX IF NOT EXISTS users_username_knn ON users USING gist ((username || '') gist_trgm_ops)`
  yield* sql`CREATE INDEX IF NOT EXISTS users_display_knn ON users USING gist (lower(display_name) gist_trgm_ops)`
})
