/**
 * Idempotency keys in PostgreSQL (see migration 0008). The reservation is one statement — an insert
 * that takes over a row only when it is dead (past its TTL, or in flight past its lease) — so of
 * any number of concurrent requests with one key exactly one holds it.
 */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Option } from "effect"

export interface IdempotencyRow {
  readonly method: string
  readonly path: string
  readonly fingerprint: Uint8Array | null
  readonly state: "in_flight" | "complete"
  readonly status: number | null
  readonly contentType: string | null
  readonly body: Uint8Array | null
}

export interface Reservation {
  readonly userId: string
  readonly key: string
  readonly owner: string
}

export class IdempotencyRepo extends Context.Tag("IdempotencyRepo")<IdempotencyRepo, {
  /** Holds the key for `owner` (None), or answers the live row another request holds or completed. */
  readonly reserve: (input: Reservation & {
    readonly method: string
    readonly path: string
    readonly fingerprint: Uint8Array | null
    readonly leaseSeconds: number
    readonly ttlSeconds: number
  }) => Effect.Effect<Option.Option<IdempotencyRow>>
  /** Extends the lease of a reservation still held; false once it is not. */
  readonly renew: (r: Reservation, leaseSeconds: number) => Effect.Effect<boolean>
  /** Records the response of a held reservation; false when the reservation was lost meanwhile. */
  readonly complete: (r: Reservation, response: {
    readonly fingerprint: Uint8Array
    readonly status: number
    readonly contentType: string | null
    readonly body: Uint8Array
  }) => Effect.Effect<boolean>
  /** Gives a held key up, so that a retry runs the request again. */
  readonly release: (r: Reservation) => Effect.Effect<void>
  /** Deletes the keys older than the TTL; how many. */
  readonly purgeExpired: (ttlSeconds: number) => Effect.Effect<number>
}>() {}

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  const reserveOnce = (i: Parameters<IdempotencyRepo["Type"]["reserve"]>[0]) =>
    sql<{ owner: string }>`
      INSERT INTO idempotency_keys (user_id, key, method, path, fingerprint, state, owner, lease_until)
      VALUES (${i.userId}, ${i.key}, ${i.method}, ${i.path}, ${i.fingerprint}, 'in_flight', ${i.owner},
              now() + make_interval(secs => ${i.leaseSeconds}))
      ON CONFLICT (user_id, key) DO UPDATE SET
        method = EXCLUDED.method, path = EXCLUDED.path, fingerprint = EXCLUDED.fingerprint, state = 'in_flight',
        owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until, status = NULL, content_type = NULL, body = NULL,
        created_at = now()
      WHERE idempotency_keys.created_at < now() - make_interval(secs => ${i.ttlSeconds})
         OR (idempotency_keys.state = 'in_flight' AND idempotency_keys.lease_until < now())
      RETURNING owner::text`.pipe(
      Effect.flatMap((rows) =>
        rows.length > 0
          ? Effect.succeed(Option.some(Option.none<IdempotencyRow>()))
          : sql<IdempotencyRow>`
              SELECT method, path, fingerprint, state, status, content_type, body FROM idempotency_keys
              WHERE user_id = ${i.userId} AND key = ${i.key}`.pipe(
              // gone between the two statements (released): try again
              Effect.map((found) => found.length === 0 ? Option.none() : Option.some(Option.some(found[0]!)))
            )
      )
    )

  return IdempotencyRepo.of({
    reserve: (input) =>
      reserveOnce(input).pipe(
        Effect.repeat({ until: Option.isSome, times: 5 }),
        Effect.map(Option.getOrElse(() => Option.none<IdempotencyRow>())),
        Effect.orDie
      ),
    renew: (r, leaseSeconds) =>
      sql`
        UPDATE idempotency_keys SET lease_until = now() + make_interval(secs => ${leaseSeconds})
        WHERE user_id = ${r.userId} AND key = ${r.key} AND owner = ${r.owner} AND state = 'in_flight'
        RETURNING 1`.pipe(Effect.map((rows) => rows.length > 0), Effect.orDie),
    complete: (r, response) =>
      sql`
        UPDATE idempotency_keys SET state = 'complete', fingerprint = ${response.fingerprint}, status = ${response.status},
          content_type = ${response.contentType}, body = ${response.body}
        WHERE user_id = ${r.userId} AND key = ${r.key} AND owner = ${r.owner} AND state = 'in_flight'
        RETURNING 1`.pipe(Effect.map((rows) => rows.length > 0), Effect.orDie),
    release: (r) =>
      sql`
        DELETE FROM idempotency_keys
        WHERE user_id = ${r.userId} AND key = ${r.key} AND owner = ${r.owner} AND state = 'in_flight'`.pipe(
        Effect.asVoid,
        Effect.orDie
      ),
    purgeExpired: (ttlSeconds) =>
      sql<{ n: number }>`
        WITH gone AS (
          DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => ${ttlSeconds}) RETURNING 1
        ) SELECT count(*)::int AS n FROM gone`.pipe(Effect.map((rows) => rows[0]?.n ?? 0), Effect.orDie)
  })
})

export const layer = Layer.effect(IdempotencyRepo, make)
