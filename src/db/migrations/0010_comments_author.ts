import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Comments by author: a block hides the blocked person's comments on the blocker's posts and takes
 * them out of those posts' comment counts (an unblock puts them back), so block and unblock count a
 * person's comments per post — through this index, not a scan of every comment.
 * Blocks made before this migration left those comments counted: the posts of authors who block
 * someone get their count recomputed once, so an unblock later cannot count them twice.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE INDEX IF NOT EXISTS comments_author ON comments (author_id, post_id)`
  yield* sql`
    UPDATE posts p SET comment_count = (
      SELECT count(*) FROM comments c
      WHERE c.post_id = p.id
        AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = p.author_id AND b.blocked_id = c.author_id)
    )
    WHERE EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = p.author_id)`
})
