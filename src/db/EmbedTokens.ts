/** Embed tokens: only the SHA-256 of a secret is stored, like sessions, so a leaked table yields no usable token. */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Option } from "effect"
import type { EmbedScope } from "../domain/EmbedTokens.ts"

export interface EmbedTokenRow {
  readonly id: string
  readonly userId: string
  readonly name: string
  readonly scope: EmbedScope
  readonly allowedOrigins: ReadonlyArray<string>
  readonly hint: string
  readonly createdAt: Date
  readonly lastUsedAt: Date | null
}

export class EmbedTokensRepo extends Context.Tag("EmbedTokensRepo")<EmbedTokensRepo, {
  /** Inserts a token unless the account already has `maxLive` live ones (then none). */
  readonly insert: (input: {
    readonly tokenHash: Uint8Array
    readonly userId: string
    readonly name: string
    readonly scope: EmbedScope
    readonly allowedOrigins: ReadonlyArray<string>
    readonly hint: string
    readonly maxLive: number
  }) => Effect.Effect<Option.Option<EmbedTokenRow>>
  /** The account's live tokens, newest first. */
  readonly list: (userId: string) => Effect.Effect<ReadonlyArray<EmbedTokenRow>>
  /** Revokes one of the account's tokens; its hash when it was live. */
  readonly revoke: (userId: string, id: string) => Effect.Effect<Option.Option<Uint8Array>>
  /** A live token by its hash. */
  readonly find: (tokenHash: Uint8Array) => Effect.Effect<Option.Option<EmbedTokenRow>>
  /** Records a use, at most once a minute per token (so reads stay reads). */
  readonly touch: (tokenHash: Uint8Array) => Effect.Effect<void>
}>() {}

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const columns = sql`id::text, user_id::text, name, scope, allowed_origins, hint, created_at, last_used_at`
  return EmbedTokensRepo.of({
    insert: (t) =>
      // the advisory lock serialises one account's creates, so two at once cannot pass the count together
      sql.withTransaction(
        Effect.gen(function*() {
          yield* sql`SELECT pg_advisory_xact_lock(hashtext('embed_tokens:' || ${t.userId}))`
          const rows = yield* sql<EmbedTokenRow>`
            INSERT INTO embed_tokens (token_hash, user_id, name, scope, allowed_origins, hint)
            SELECT ${t.tokenHash}, ${t.userId}, ${t.name}, ${t.scope}, ${JSON.stringify(t.allowedOrigins)}::jsonb, ${t.hint}
            WHERE (SELECT count(*) FROM embed_tokens WHERE user_id = ${t.userId} AND revoked_at IS NULL) < ${t.maxLive}
            RETURNING ${columns}`
          return Option.fromNullable(rows[0])
        })
      ).pipe(Effect.orDie),
    list: (userId) =>
      sql<EmbedTokenRow>`
        SELECT ${columns} FROM embed_tokens WHERE user_id = ${userId} AND revoked_at IS NULL
        ORDER BY created_at DESC`.pipe(Effect.orDie),
    revoke: (userId, id) =>
      sql<{ tokenHash: Uint8Array }>`
        UPDATE embed_tokens SET revoked_at = now()
        WHERE id = ${id} AND user_id = ${userId} AND revoked_at IS NULL
        RETURNING token_hash`.pipe(
        Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), (r) => r.tokenHash)),
        Effect.orDie
      ),
    find: (tokenHash) =>
      sql<EmbedTokenRow>`
        SELECT ${columns} FROM embed_tokens
        WHERE token_hash = ${tokenHash} AND revoked_at IS NULL`.pipe(
        Effect.map((rows) => Option.fromNullable(rows[0])),
        Effect.orDie
      ),
    touch: (tokenHash) =>
      sql`
        UPDATE embed_tokens SET last_used_at = now()
        WHERE token_hash = ${tokenHash} AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`.pipe(
        Effect.asVoid,
        Effect.orDie
      )
  })
})

export const layer = Layer.effect(EmbedTokensRepo, make)
