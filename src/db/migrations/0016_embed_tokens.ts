import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Embed tokens: scoped, revocable bearer tokens for widgets on other sites. Like sessions, only the
 * SHA-256 of a token is stored (the primary key: every authenticated widget request looks it up);
 * a revoked token keeps its row (`revoked_at`) so the list can say so and nothing reuses its id.
 * `embed_tokens_live` serves the per-account list and the count of live tokens checked on create.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE IF NOT EXISTS embed_tokens (
      id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      token_hash      bytea NOT NULL UNIQUE,
      user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      name            text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64),
      scope           text NOT NULL CHECK (scope IN ('read', 'read_like')),
      allowed_origins jsonb NOT NULL DEFAULT '[]',
      hint            text NOT NULL,
      created_at      timestamptz NOT NULL DEFAULT now(),
      last_used_at    timestamptz,
      revoked_at      timestamptz
    )`
  yield* sql`CREATE INDEX IF NOT EXISTS embed_tokens_live ON embed_tokens (user_id, created_at DESC) WHERE revoked_at IS NULL`
})
