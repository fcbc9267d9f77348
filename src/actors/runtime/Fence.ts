/**
 * Fencing tokens for actor partitions. A node that leases a MAILBOX partition raises the
 * partition's epoch (a PostgreSQL counter that only grows) before it handles anything, and copies
 * it to Redis; every command is handled under the epoch its partition was leased with, and every
 * side effect an actor performs checks that epoch at the store:
 *
 * - PostgreSQL: `transaction(envelope, body)` runs `body` in a transaction that first reads the
 *   fence row `FOR SHARE` — a newer owner's raise waits for that transaction, and a transaction
 *   that starts after the raise sees the newer epoch and fails with `Fenced`;
 * - Redis: Lua scripts begin with `FENCE_LUA` (KEYS[1] = `fenceKey(partition)`, ARGV[1] = epoch),
 *   refusing the write when the stored epoch is newer.
 *
 * A zombie (a node paused past its lease, or cut off from NATS) therefore cannot write once the
 * next owner has raised the fence; its write fails and the runtime stops that partition.
 *
 * The PostgreSQL path also records, per actor, the MAILBOX sequence of the last command whose
 * effects it committed: a command delivered again after a failover is skipped (`Option.none()`),
 * so effects happen exactly once.
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { Context, Effect, Layer, Option } from "effect"
import { FENCE_LUA, Fenced, FenceKind, fenceKey } from "../../redis/Fencing.ts"
import { AppConfig } from "../../config/AppConfig.ts"
import { Redis, type RedisError } from "../../redis/Redis.ts"
import { fenceMargin } from "./Shards.ts"
import type { Envelope } from "./Actor.ts"

export { FENCE_LUA, Fenced, fenceKey, fencedReply, FenceKind, isFenced } from "../../redis/Fencing.ts"

export interface FencesShape {
  /**
   * Raises the partition's epoch for a new lease holder and returns it: in PostgreSQL (waiting for
   * every transaction of an older holder that still runs) and then in Redis.
   */
  readonly raise: (partition: number, holder: string) => Effect.Effect<number, SqlError.SqlError | RedisError>
  /**
   * Runs `body` in a transaction fenced by the envelope's epoch; `Option.none()` (body not run)
   * when the envelope's command was already applied for its actor.
   */
  readonly transaction: <A, E, R>(
    envelope: Envelope,
    body: Effect.Effect<A, E, R>,
    options?: {
      /**
       * `false` for a body that is idempotent by itself (a unique key makes a second run find the
       * first one's row): the applied sequence is then neither checked nor recorded — two round
       * trips fewer — and the body always runs.
       */
      readonly recordApplied?: boolean
    }
  ) => Effect.Effect<Option.Option<A>, E | Fenced | SqlError.SqlError, R>
}

export class Fences extends Context.Tag("Fences")<Fences, FencesShape>() {}

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const redis = yield* Redis
  const config = yield* AppConfig
  // a holder frozen inside a fenced transaction (SIGSTOP, a GC storm) holds the fence row's share
  // lock, so the next holder's raise would wait for it forever: PostgreSQL ends a transaction left
  // idle this long — less than the time a lease takes to expire once its holder stops renewing
  const idleMillis = Math.max(500, fenceMargin(config.actorRuntime.leaseTtlMillis, config.actors.leaseTickMillis))
  redis.client.defineCommand("fenceRaise", {
    numberOfKeys: 1,
    lua: `${FENCE_LUA}\nreturn fence_epoch`
  })
  const client = redis.client as typeof redis.client & { fenceRaise(key: string, epoch: number): Promise<number> }

  const raise: FencesShape["raise"] = (partition, holder) =>
    Effect.gen(function*() {
      const [row] = yield* sql<{ epoch: string }>`
        INSERT INTO actor_fences (kind, partition, epoch, holder) VALUES (${FenceKind}, ${partition}, 1, ${holder})
        ON CONFLICT (kind, partition) DO UPDATE SET epoch = actor_fences.epoch + 1, holder = EXCLUDED.holder, raised_at = now()
        RETURNING epoch`
      const epoch = Number(row!.epoch)
      yield* redis.call("fence raise", () => client.fenceRaise(fenceKey(partition), epoch))
      return epoch
    })

  const transaction: FencesShape["transaction"] = (envelope, body, options) =>
    sql.withTransaction(
      Effect.gen(function*() {
        // the idle timeout (SET LOCAL's effect) and the fence read in one round trip
        const [fence] = yield* sql<{ epoch: string | null }>`
          SELECT set_config('idle_in_transaction_session_timeout', ${String(idleMillis)}, true) AS timeout,
            (SELECT epoch FROM actor_fences WHERE kind = ${FenceKind} AND partition = ${envelope.partition} FOR SHARE) AS epoch`
        const current = Number(fence?.epoch ?? 0)
        if (current !== envelope.epoch) {
          return yield* new Fenced({ partition: envelope.partition, epoch: envelope.epoch, current })
        }
        const record = envelope.seq > 0 && options?.recordApplied !== false
        if (record) {
          const [applied] = yield* sql<{ seq: string }>`
            SELECT seq FROM actor_applied WHERE kind = ${envelope.kind} AND key = ${envelope.key} FOR UPDATE`
          if (applied !== undefined && Number(applied.seq) >= envelope.seq) return Option.none()
        }
        const result = yield* body
        if (record) {
          yield* sql`
            INSERT INTO actor_applied (kind, key, seq) VALUES (${envelope.kind}, ${envelope.key}, ${envelope.seq})
            ON CONFLICT (kind, key) DO UPDATE SET seq = EXCLUDED.seq`
        }
        return Option.some(result)
      })
    )

  return Fences.of({ raise, transaction })
})

export const layer = Layer.effect(Fences, make)

