import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Direct messages. A conversation is written by its actor alone (one per thread, under its
 * partition's fence), and PostgreSQL holds the invariants as well, so no fault can break them:
 *
 * - `messages` is keyed by `(conversation_id, seq)`: the sequence is taken from
 *   `conversations.last_seq` in the insert's own transaction, so it is gap-free and never reused;
 * - `UNIQUE (conversation_id, sender_id, client_id)`: a resend with the same client id, at any later
 *   time, finds the original instead of adding a copy;
 * - a 1:1 thread has a `direct_key` (the two user ids, sorted): there is at most one per pair.
 *
 * A member row keeps `joined_seq` (history is visible after it), `left_seq` (null while a member),
 * `read_seq` (the read pointer, only moving forward) and `status` ('request' until a member who does
 * not follow the writer accepts). Unread counts are derived from sequences and read pointers, never
 * stored. `message_media` is a photo message's image, rendered by the media pipeline.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE conversations (
      id               uuid PRIMARY KEY,
      kind             text NOT NULL CHECK (kind IN ('direct', 'group')),
      title            text CHECK (char_length(title) <= 100),
      direct_key       text UNIQUE,
      created_by       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      last_seq         bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
      created_at       timestamptz NOT NULL DEFAULT now(),
      last_activity_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((kind = 'direct') = (direct_key IS NOT NULL))
    )`
  yield* sql`
    CREATE TABLE conversation_members (
      conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
      user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      role            text NOT NULL CHECK (role IN ('admin', 'member')),
      status          text NOT NULL CHECK (status IN ('accepted', 'request', 'declined')),
      joined_seq      bigint NOT NULL DEFAULT 0,
      left_seq        bigint,
      read_seq        bigint NOT NULL DEFAULT 0,
      muted           boolean NOT NULL DEFAULT false,
      joined_at       timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (conversation_id, user_id),
      CHECK (read_seq >= 0 AND joined_seq >= 0)
    )`
  yield* sql`CREATE INDEX conversation_members_user ON conversation_members (user_id) WHERE left_seq IS NULL`
  yield* sql`
    CREATE TABLE message_media (
      id              uuid PRIMARY KEY,
      conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
      uploader_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      status          text NOT NULL CHECK (status IN ('processing', 'ready', 'failed')),
      original_key    text NOT NULL,
      variants        jsonb,
      placeholder     text,
      width           integer,
      height          integer,
      created_at      timestamptz NOT NULL DEFAULT now()
    )`
  yield* sql`
    CREATE TABLE messages (
      conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
      seq             bigint NOT NULL CHECK (seq > 0),
      sender_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      client_id       text NOT NULL CHECK (char_length(client_id) BETWEEN 1 AND 64),
      kind            text NOT NULL CHECK (kind IN ('text', 'post', 'photo')),
      text            text CHECK (char_length(text) <= 2000),
      post_id         uuid,
      media_id        uuid REFERENCES message_media (id) ON DELETE SET NULL,
      reply_to_seq    bigint,
      created_at      timestamptz NOT NULL,
      deleted_at      timestamptz,
      PRIMARY KEY (conversation_id, seq),
      UNIQUE (conversation_id, sender_id, client_id)
    )`
  yield* sql`
    CREATE TABLE message_reactions (
      conversation_id uuid NOT NULL,
      seq             bigint NOT NULL,
      user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      emoji           text NOT NULL CHECK (char_length(emoji) BETWEEN 1 AND 16),
      created_at      timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (conversation_id, seq, user_id),
      FOREIGN KEY (conversation_id, seq) REFERENCES messages (conversation_id, seq) ON DELETE CASCADE
    )`
})
