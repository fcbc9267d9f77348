import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Carousels: a post owns an ordered list of 1–10 photos, each through the pipeline with its own
 * original, variants and alt text. `PRIMARY KEY (post_id, position)` is the only index a read
 * needs (a post's photos in order, for the post, the grid and the feed cards in one subquery).
 * The post row keeps its single-image columns as the first photo's, for old clients; existing
 * posts get their one photo as position 0, so every post has its media here.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE IF NOT EXISTS post_media (
      post_id        uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
      position       smallint NOT NULL CHECK (position BETWEEN 0 AND 9),
      alt_text       text NOT NULL DEFAULT '' CHECK (char_length(alt_text) <= 1000),
      original_key   text NOT NULL,
      original_type  text NOT NULL,
      original_bytes bigint NOT NULL,
      status         text NOT NULL DEFAULT 'processing' CHECK (status IN ('processing', 'ready', 'failed')),
      width          integer,
      height         integer,
      variants       jsonb,
      placeholder    text,
      dominant_color text,
      PRIMARY KEY (post_id, position)
    )`
  yield* sql`
    INSERT INTO post_media (post_id, position, alt_text, original_key, original_type, original_bytes, status,
                            width, height, variants, placeholder, dominant_color)
    SELECT id, 0, alt_text, original_key, original_type, original_bytes,
           CASE status WHEN 'published' THEN 'ready' ELSE status END,
           width, height, variants, placeholder, dominant_color
    FROM posts
    ON CONFLICT DO NOTHING`
})
