import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Stories. A story is visible while `published`, not deleted and `expires_at > now()` — by query, so
 * nothing depends on a job running to hide it. `seq` is taken from `story_seq` when the story is
 * published, so it grows with publication; a viewer's read pointer per author (`story_read_pointers`,
 * one row per viewer and author, as Telegram's `max_read_id`) is the highest `seq` they saw.
 *
 * - `UNIQUE (author_id, client_id)`: a retried post finds the first instead of adding a copy;
 * - `story_views` is keyed by `(story_id, viewer_id)`: a view is stored once, whatever the retries,
 *   and `view_count` is raised in the same statement by exactly the rows that were inserted;
 * - `close_friends`, `story_hidden` ("hide my story from") and `mutes` are plain edges;
 * - the sweeper (social/StorySweeper.ts) finds its work through the partial indexes at the end.
 * A message may quote a story (`messages.story_id`, `story_kind`): replies and reactions.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE SEQUENCE story_seq`
  yield* sql`
    CREATE TABLE stories (
      id              uuid PRIMARY KEY,
      author_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      seq             bigint UNIQUE,
      client_id       text CHECK (char_length(client_id) BETWEEN 1 AND 64),
      audience        text NOT NULL CHECK (audience IN ('followers', 'closeFriends')),
      status          text NOT NULL CHECK (status IN ('processing', 'published', 'failed')),
      original_key    text NOT NULL,
      media           jsonb,
      view_count      integer NOT NULL DEFAULT 0 CHECK (view_count >= 0),
      created_at      timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
      published_at    timestamptz,
      expires_at      timestamptz,
      deleted_at      timestamptz,
      viewers_purged  boolean NOT NULL DEFAULT false,
      UNIQUE (author_id, client_id),
      CHECK ((status = 'published') = (seq IS NOT NULL AND published_at IS NOT NULL AND expires_at IS NOT NULL))
    )`
  // the tray and a profile's stories: an author's live ones
  yield* sql`CREATE INDEX stories_active ON stories (author_id, expires_at) WHERE deleted_at IS NULL AND status = 'published'`
  // the 100-active cap counts processing ones too
  yield* sql`CREATE INDEX stories_author_recent ON stories (author_id, created_at DESC) WHERE deleted_at IS NULL`
  yield* sql`CREATE INDEX stories_archive ON stories (author_id, published_at DESC, id) WHERE deleted_at IS NULL AND status = 'published'`
  yield* sql`CREATE INDEX stories_deleted ON stories (deleted_at) WHERE deleted_at IS NOT NULL`
  yield* sql`CREATE INDEX stories_expired ON stories (expires_at) WHERE deleted_at IS NULL AND status = 'published'`
  yield* sql`CREATE INDEX stories_failed ON stories (created_at) WHERE status <> 'published' AND deleted_at IS NULL`
  yield* sql`
    CREATE TABLE story_views (
      story_id  uuid NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
      viewer_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      viewed_at timestamptz NOT NULL,
      PRIMARY KEY (story_id, viewer_id)
    )`
  yield* sql`CREATE INDEX story_views_recent ON story_views (story_id, viewed_at DESC, viewer_id)`
  yield* sql`
    CREATE TABLE story_read_pointers (
      viewer_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      author_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      max_seq   bigint NOT NULL CHECK (max_seq >= 0),
      PRIMARY KEY (viewer_id, author_id)
    )`
  for (const [table, owner, other] of [["close_friends", "owner_id", "friend_id"], ["story_hidden", "owner_id", "hidden_id"], ["mutes", "muter_id", "muted_id"]] as const) {
    yield* sql.unsafe(`
      CREATE TABLE ${table} (
        ${owner}   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        ${other}   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
        PRIMARY KEY (${owner}, ${other}),
        CHECK (${owner} <> ${other})
      )`)
    yield* sql.unsafe(`CREATE INDEX ${table}_list ON ${table} (${owner}, created_at DESC, ${other})`)
  }
  yield* sql`ALTER TABLE messages ADD COLUMN story_id uuid, ADD COLUMN story_kind text CHECK (story_kind IN ('reply', 'reaction'))`
})
