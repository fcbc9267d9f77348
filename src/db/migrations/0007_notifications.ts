import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Notifications, grouped. A notification is one group ("a and 3 others liked your post"): its
 * sources are the individual actions (one like, one follow, one comment), each keyed globally so
 * an event handled twice adds nothing and undoing the action (unlike, unfollow, delete) removes
 * exactly its source — and the notification with its last source. A group stays open while
 * unread (`notifications_open_group`); once read, the next action starts a new one.
 * `source` is in the C collation so key ranges (`comment:<id>…`) follow bytes, not a locale.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE notifications (
      id         uuid PRIMARY KEY,
      user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      kind       text NOT NULL CHECK (kind IN ('like', 'comment', 'follow', 'follow_request', 'follow_approved', 'mention')),
      group_key  text NOT NULL,
      post_id    uuid REFERENCES posts (id) ON DELETE CASCADE,
      text       text,
      read       boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
      updated_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
    )`
  yield* sql`CREATE UNIQUE INDEX notifications_open_group ON notifications (user_id, group_key) WHERE NOT read`
  yield* sql`CREATE INDEX notifications_user ON notifications (user_id, updated_at DESC, id DESC)`
  yield* sql`CREATE INDEX notifications_post ON notifications (post_id) WHERE post_id IS NOT NULL`
  yield* sql`
    CREATE TABLE notification_sources (
      source          text COLLATE "C" PRIMARY KEY,
      notification_id uuid NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
      actor_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      created_at      timestamptz NOT NULL DEFAULT now()
    )`
  yield* sql`CREATE INDEX notification_sources_group ON notification_sources (notification_id, created_at DESC)`
  yield* sql`CREATE INDEX notification_sources_actor ON notification_sources (actor_id)`
})
