import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Likes, saves and comments, and what the home feed reads.
 * - `posts_author_published` orders an author's published posts by publication (what timelines,
 *   celebrity outboxes and the PostgreSQL feed fallback read); `published_at` is kept to whole
 *   milliseconds so it equals the timeline score in Redis and one cursor serves both paths;
 * - `likes` / `saves` primary keys make like and save idempotent; `likes_user` answers "did the
 *   viewer like these posts" and `saves_user` lists a user's saved posts newest first;
 * - `comments_post` serves the comment list by keyset, oldest first.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE INDEX posts_author_published ON posts (author_id, published_at DESC, id DESC) WHERE status = 'published'`
  yield* sql`
    CREATE TABLE likes (
      post_id    uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
      user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (post_id, user_id)
    )`
  yield* sql`CREATE INDEX likes_user ON likes (user_id, post_id)`
  yield* sql`
    CREATE TABLE saves (
      user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      post_id    uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, post_id)
    )`
  yield* sql`CREATE INDEX saves_user ON saves (user_id, created_at DESC)`
  yield* sql`
    CREATE TABLE comments (
      id         uuid PRIMARY KEY,
      post_id    uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
      author_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      text       text NOT NULL CHECK (char_length(text) BETWEEN 1 AND 2200),
      -- whole milliseconds, like the keyset cursors that carry it
      created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
    )`
  yield* sql`CREATE INDEX comments_post ON comments (post_id, created_at, id)`
})
