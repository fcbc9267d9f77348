import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Accounts, sessions and the social graph.
 * - usernames and emails are stored lower-cased and unique, so lookups are plain equality;
 * - trigram indexes back user search (`%` similarity and prefix LIKE) so it stays fast at 100k+ users,
 *   and `text_pattern_ops` serves exact-prefix scans;
 * - follows are indexed both ways, each by time, for the keyset-paginated follower/following lists;
 * - counters live on users and change in the same transaction as the edge they count.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE EXTENSION IF NOT EXISTS pg_trgm`
  yield* sql`
    CREATE TABLE users (
      id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      username        text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9._]{1,30}$'),
      email           text NOT NULL UNIQUE,
      password_hash   text NOT NULL,
      display_name    text NOT NULL DEFAULT '' CHECK (char_length(display_name) <= 64),
      bio             text NOT NULL DEFAULT '' CHECK (char_length(bio) <= 150),
      is_private      boolean NOT NULL DEFAULT false,
      avatar          jsonb,
      follower_count  integer NOT NULL DEFAULT 0 CHECK (follower_count >= 0),
      following_count integer NOT NULL DEFAULT 0 CHECK (following_count >= 0),
      post_count      integer NOT NULL DEFAULT 0 CHECK (post_count >= 0),
      created_at      timestamptz NOT NULL DEFAULT now()
    )`
  yield* sql`CREATE INDEX users_username_prefix ON users (username text_pattern_ops)`
  yield* sql`CREATE INDEX users_display_prefix ON users (lower(display_name) text_pattern_ops)`
  yield* sql`CREATE INDEX users_username_trgm ON users USING gin (username gin_trgm_ops)`
  yield* sql`CREATE INDEX users_display_trgm ON users USING gin (lower(display_name) gin_trgm_ops)`

  yield* sql`
    CREATE TABLE sessions (
      token_hash   bytea PRIMARY KEY,
      user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      created_at   timestamptz NOT NULL DEFAULT now(),
      expires_at   timestamptz NOT NULL,
      refreshed_at timestamptz NOT NULL DEFAULT now(),
      user_agent   text NOT NULL DEFAULT '',
      ip           text NOT NULL DEFAULT ''
    )`
  yield* sql`CREATE INDEX sessions_user ON sessions (user_id)`
  yield* sql`CREATE INDEX sessions_expiry ON sessions (expires_at)`

  yield* sql`
    CREATE TABLE follows (
      follower_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      followee_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      created_at  timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (follower_id, followee_id),
      CHECK (follower_id <> followee_id)
    )`
  yield* sql`CREATE INDEX follows_followers ON follows (followee_id, created_at DESC, follower_id)`
  yield* sql`CREATE INDEX follows_following ON follows (follower_id, created_at DESC, followee_id)`

  yield* sql`
    CREATE TABLE follow_requests (
      id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      requester_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      target_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      created_at   timestamptz NOT NULL DEFAULT now(),
      UNIQUE (requester_id, target_id),
      CHECK (requester_id <> target_id)
    )`
  yield* sql`CREATE INDEX follow_requests_target ON follow_requests (target_id, created_at DESC, id)`

  yield* sql`
    CREATE TABLE blocks (
      blocker_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      blocked_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (blocker_id, blocked_id),
      CHECK (blocker_id <> blocked_id)
    )`
  yield* sql`CREATE INDEX blocks_blocked ON blocks (blocked_id, blocker_id)`
})
