import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Comments by author: a block hides the blocked person's comments on the blocker's posts and takes
 * them out of those posts' comment counts (an unblock puts them back), so block and unblock count a
 * person's comments per post — through this index, not a scan of every comment.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE INDEX IF NOT EXISTS comments_author ON comments (author_id, post_id)`
})
