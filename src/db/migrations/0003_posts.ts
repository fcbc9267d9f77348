import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Posts, direct uploads, hashtags and mentions.
 * - `posts_author_grid` serves the profile grid (published posts of one author, newest first, keyset);
 * - `posts_processing` finds posts stuck in processing (for operators) without scanning published ones;
 * - `hashtags_tag` serves `/hashtags/:tag/posts` later; `mentions_user` finds where someone was mentioned;
 * - `uploads_expiry` lets expired, unused direct uploads be swept.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE posts (
      id             uuid PRIMARY KEY,
      author_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      status         text NOT NULL CHECK (status IN ('processing', 'published', 'failed')),
      caption        text NOT NULL DEFAULT '' CHECK (char_length(caption) <= 2200),
      alt_text       text NOT NULL DEFAULT '' CHECK (char_length(alt_text) <= 1000),
      location       text,
      original_key   text NOT NULL,
      original_type  text NOT NULL,
      original_bytes bigint NOT NULL,
      width          integer,
      height         integer,
      variants       jsonb,
      placeholder    text,
      dominant_color text,
      like_count     integer NOT NULL DEFAULT 0 CHECK (like_count >= 0),
      comment_count  integer NOT NULL DEFAULT 0 CHECK (comment_count >= 0),
      failure        text,
      attempts       integer NOT NULL DEFAULT 0,
      created_at     timestamptz NOT NULL DEFAULT now(),
      published_at   timestamptz
    )`
  yield* sql`CREATE INDEX posts_author_grid ON posts (author_id, created_at DESC, id) WHERE status = 'published'`
  yield* sql`CREATE INDEX posts_processing ON posts (created_at) WHERE status = 'processing'`

  yield* sql`
    CREATE TABLE hashtags (
      post_id uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
      tag     text NOT NULL,
      PRIMARY KEY (post_id, tag)
    )`
  yield* sql`CREATE INDEX hashtags_tag ON hashtags (tag, post_id)`
  yield* sql`
    CREATE TABLE mentions (
      post_id uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      PRIMARY KEY (post_id, user_id)
    )`
  yield* sql`CREATE INDEX mentions_user ON mentions (user_id, post_id)`

  yield* sql`
    CREATE TABLE uploads (
      id         uuid PRIMARY KEY,
      user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      object_key text NOT NULL,
      max_bytes  bigint NOT NULL,
      expires_at timestamptz NOT NULL,
      used_at    timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    )`
  yield* sql`CREATE INDEX uploads_expiry ON uploads (expires_at) WHERE used_at IS NULL`

  yield* sql`ALTER TABLE users ADD COLUMN avatar_pending text`
})
