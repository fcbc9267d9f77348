/** Sessions: only the SHA-256 of a token is stored, so a leaked table yields no usable token. */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Option } from "effect"

export interface SessionRow {
  readonly userId: string
  readonly expiresAt: Date
  readonly refreshedAt: Date
}

export class SessionsRepo extends Context.Tag("SessionsRepo")<SessionsRepo, {
  readonly insert: (input: {
    readonly tokenHash: Uint8Array
    readonly userId: string
    readonly ttlSeconds: number
    readonly userAgent: string
    readonly ip: string
  }) => Effect.Effect<void>
  /** A live session; extends its expiry when it was last extended more than `refreshAfterSeconds` ago. */
  readonly touch: (tokenHash: Uint8Array, ttlSeconds: number, refreshAfterSeconds: number) => Effect.Effect<Option.Option<SessionRow>>
  readonly revoke: (tokenHash: Uint8Array) => Effect.Effect<void>
  /** Ends every session of `userId` but `keep`; the token hashes it ended. */
  readonly revokeOthers: (userId: string, keep: Uint8Array) => Effect.Effect<ReadonlyArray<Uint8Array>>
  /** Which of these sessions still stand (not revoked, not expired), as hex token hashes; extends none. */
  readonly live: (tokenHashes: ReadonlyArray<Uint8Array>) => Effect.Effect<ReadonlyArray<string>>
  readonly purgeExpired: Effect.Effect<number>
}>() {}

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  return SessionsRepo.of({
    insert: (s) =>
      sql`
        INSERT INTO sessions (token_hash, user_id, expires_at, user_agent, ip)
        VALUES (${s.tokenHash}, ${s.userId}, now() + make_interval(secs => ${s.ttlSeconds}), ${s.userAgent}, ${s.ip})`.pipe(
        Effect.asVoid,
        Effect.orDie
      ),
    touch: (tokenHash, ttl, refreshAfter) =>
      sql<SessionRow>`
        WITH live AS (
          SELECT token_hash, user_id, expires_at, refreshed_at FROM sessions
          WHERE token_hash = ${tokenHash} AND expires_at > now()
        ), refreshed AS (
          UPDATE sessions s SET expires_at = now() + make_interval(secs => ${ttl}), refreshed_at = now()
          FROM live WHERE s.token_hash = live.token_hash
            AND live.refreshed_at < now() - make_interval(secs => ${refreshAfter})
          RETURNING s.user_id, s.expires_at, s.refreshed_at
        )
        SELECT user_id::text, expires_at, refreshed_at FROM refreshed
        UNION ALL
        SELECT user_id::text, expires_at, refreshed_at FROM live WHERE NOT EXISTS (SELECT 1 FROM refreshed)`.pipe(
        Effect.map((rows) => Option.fromNullable(rows[0])),
        Effect.orDie
      ),
    revoke: (tokenHash) => sql`DELETE FROM sessions WHERE token_hash = ${tokenHash}`.pipe(Effect.asVoid, Effect.orDie),
    revokeOthers: (userId, keep) =>
      sql<{ tokenHash: Uint8Array }>`DELETE FROM sessions WHERE user_id = ${userId} AND token_hash <> ${keep} RETURNING token_hash`.pipe(
        Effect.map((rows) => rows.map((r) => r.tokenHash)),
        Effect.orDie
      ),
    live: (tokenHashes) =>
      tokenHashes.length === 0
        ? Effect.succeed([])
        : sql<{ key: string }>`
          SELECT encode(token_hash, 'hex') AS key FROM sessions
          WHERE token_hash IN ${sql.in(tokenHashes)} AND expires_at > now()`.pipe(
          Effect.map((rows) => rows.map((r) => r.key)),
          Effect.orDie
        ),
    purgeExpired: sql<{ n: number }>`
      WITH gone AS (DELETE FROM sessions WHERE expires_at < now() RETURNING 1) SELECT count(*)::int AS n FROM gone`.pipe(
      Effect.map((rows) => rows[0]?.n ?? 0),
      Effect.orDie
    )
  })
})

export const layer = Layer.effect(SessionsRepo, make)
