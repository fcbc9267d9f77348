/**
 * The actor runtime's promises under faults, in one process (the chaos suite in test/chaos/ does
 * the same with real processes and signals):
 *
 * - a partition whose lease a dead node left behind is taken within one lease TTL (the old
 *   runtime's watch mirror kept the expired lease and never took it);
 * - a zombie cannot write: once a newer holder raised a partition's fence, the old holder's
 *   PostgreSQL write fails, the partition stops, and when the partition is leased again the
 *   command is applied exactly once, in order with the next one;
 * - a command slower than ack_wait is kept alive with working() and handled once;
 * - a full MAILBOX refuses `send` at once with MailboxFull.
 */
import { SqlClient } from "@effect/sql"
import { Kvm } from "@nats-io/kv"
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Exit, Schema, Scope } from "effect"
import { behaviour, kind, partitionOf } from "../src/actors/runtime/Actor.ts"
import * as Actors from "../src/actors/runtime/Actors.ts"
import { Fences } from "../src/actors/runtime/Fence.ts"
import type { AppConfigShape } from "../src/config/AppConfig.ts"
import { Nats } from "../src/streams/Nats.ts"
import { BucketNames } from "../src/streams/Topology.ts"
import { actorTestLayer, startActorHost } from "./support/actors.ts"
import { until } from "./support/harness.ts"

const Ledger = kind({
  name: "ledger",
  command: Schema.Struct({ n: Schema.Number, slowMs: Schema.optional(Schema.Number) })
})

/** Handler invocations by `n` (including ones whose write was refused). */
const invoked = new Map<number, number>()

const makeLedger = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const fences = yield* Fences
  return behaviour({
    kind: Ledger,
    hydrate: () => Effect.succeed(null),
    receive: (state, command, envelope) =>
      Effect.gen(function*() {
        invoked.set(command.n, (invoked.get(command.n) ?? 0) + 1)
        if (command.slowMs) yield* Effect.sleep(command.slowMs)
        yield* fences.transaction(envelope, sql`INSERT INTO ledger (key, n, epoch) VALUES (${envelope.key}, ${command.n}, ${envelope.epoch})`)
        return state
      })
  })
})

const TTL = 3000
const settings: Partial<AppConfigShape> = {
  actorPartitions: 4,
  actors: { idleMillis: 5000, mailboxCapacity: 16, maxDeliver: 3, leaseTickMillis: 250, askTimeoutMillis: 3000 },
  actorRuntime: { leaseTtlMillis: TTL, ackWaitMillis: 1000, maxAckPending: 64, mailboxMaxMessages: 20, handlerTimeoutMillis: 10_000, parkAfter: 64 }
}

const Base = actorTestLayer(settings)

const startHost = startActorHost(Effect.map(makeLedger, (b) => [b]))

const rows = (key: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ n: number; epoch: string }>`SELECT n, epoch FROM ledger WHERE key = ${key} ORDER BY id`).pipe(Effect.orDie)

describe("actor runtime under faults", () => {
  layer(Base, { timeout: "120 seconds", excludeTestServices: true })((it) => {
    it.effect("setup", () =>
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql`CREATE TABLE ledger (id bigserial PRIMARY KEY, key text NOT NULL, n int NOT NULL, epoch bigint NOT NULL)`).pipe(Effect.orDie))

    it.effect("leases a dead node left behind are taken within one TTL", () =>
      Effect.gen(function*() {
        const nats = yield* Nats
        const shards = yield* Effect.promise(() => new Kvm(nats.js).open(nats.name(BucketNames.shards)))
        // a node that died holding every partition (never renewed again)
        for (let p = 0; p < 4; p++) yield* Effect.promise(() => shards.put(`partition.${p}`, JSON.stringify({ node: "dead", incarnation: "x" })))
        const left = Date.now()
        const { host, scope } = yield* startHost
        const owned = yield* until(host.ownedPartitions, (o) => o.length === 4)
        assert.deepStrictEqual(owned, [0, 1, 2, 3])
        // taken after the dead node's leases expired, not before
        assert.isAtLeast(Date.now() - left, TTL - 500)
        yield* Scope.close(scope, Exit.void)
      }))

    it.effect("a zombie's write is refused; the command is applied once when the partition is leased again", () =>
      Effect.gen(function*() {
        const actors = yield* Actors.Actors
        const fences = yield* Fences
        const { host, scope } = yield* startHost
        yield* until(host.ownedPartitions, (o) => o.length === 4)
        const key = "acct1"
        const p = partitionOf(key, 4)
        yield* actors.send(Ledger, key, { n: 1 })
        yield* until(rows(key), (r) => r.length === 1)
        const first = (yield* host.leases).find((l) => l.partition === p)!
        // another holder took the partition while this node was not looking (a pause, a cut)
        const newer = yield* fences.raise(p, "intruder")
        assert.isAbove(newer, first.epoch)
        yield* actors.send(Ledger, key, { n: 2 })
        yield* actors.send(Ledger, key, { n: 3 })
        // the zombie ran the handler, its write was refused, and the partition stopped
        yield* until(Effect.sync(() => invoked.get(2) ?? 0), (n) => n >= 1)
        yield* until(host.ownedPartitions, (o) => !o.includes(p))
        assert.deepStrictEqual((yield* rows(key)).map((r) => r.n), [1])
        // the lease expires, the partition is leased again under a newer epoch: 2 then 3, once each
        const after = yield* until(rows(key), (r) => r.length === 3, 30_000)
        assert.deepStrictEqual(after.map((r) => r.n), [1, 2, 3])
        assert.isAbove(Number(after[1]!.epoch), newer)
        assert.strictEqual(invoked.get(3), 1)
        yield* Scope.close(scope, Exit.void)
      }))

    it.effect("a command slower than ack_wait is kept alive and handled once", () =>
      Effect.gen(function*() {
        const actors = yield* Actors.Actors
        const { host, scope } = yield* startHost
        yield* until(host.ownedPartitions, (o) => o.length === 4)
        yield* actors.send(Ledger, "slow1", { n: 10, slowMs: 2500 })
        yield* actors.send(Ledger, "slow1", { n: 11 })
        const done = yield* until(rows("slow1"), (r) => r.length === 2)
        assert.deepStrictEqual(done.map((r) => r.n), [10, 11])
        // well past ack_wait (1 s): had it been redelivered it would have run twice
        yield* Effect.sleep("1500 millis")
        assert.strictEqual(invoked.get(10), 1)
        assert.strictEqual((yield* rows("slow1")).length, 2)
        yield* Scope.close(scope, Exit.void)
      }))

    it.effect("a full MAILBOX refuses send at once with MailboxFull", () =>
      Effect.gen(function*() {
        const actors = yield* Actors.Actors
        // no host runs: commands stay; MAILBOX holds at most 20
        const results = yield* Effect.forEach(Array.from({ length: 25 }, (_, i) => i), (i) =>
          Effect.either(actors.send(Ledger, `full${i}`, { n: 100 + i })))
        const refused = results.filter((r) => r._tag === "Left")
        assert.strictEqual(refused.length, 5)
        for (const r of refused) assert.strictEqual(r._tag === "Left" && r.left._tag, "MailboxFull")
      }))
  })
})
