/**
 * A slow or hot key parks itself, not its partition (ActorHost.ts, `Parked`): its backlog beyond
 * ACTOR_PARK_AFTER moves to PARKED, so the partition's max_ack_pending stays free for every other
 * key, and the parked commands are still handled in order, exactly once — also by the next holder
 * of the partition when it changes hands while the key is parked.
 *
 * One partition, max_ack_pending 16, ACTOR_PARK_AFTER 8. Without parking, the slow key's
 * commands, sent first, fill the 16 slots and the other keys wait for most of them.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Exit, Schema, Scope } from "effect"
import { behaviour, kind } from "../src/actors/runtime/Actor.ts"
import * as Actors from "../src/actors/runtime/Actors.ts"
import { Fences } from "../src/actors/runtime/Fence.ts"
import type { AppConfigShape } from "../src/config/AppConfig.ts"
import { Nats } from "../src/streams/Nats.ts"
import { StreamNames } from "../src/streams/Topology.ts"
import { actorTestLayer, startActorHost } from "./support/actors.ts"
import { until } from "./support/harness.ts"

const Tally = kind({
  name: "tally",
  command: Schema.Struct({ n: Schema.Number, slowMs: Schema.optional(Schema.Number) })
})

const makeTally = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const fences = yield* Fences
  return behaviour({
    kind: Tally,
    hydrate: () => Effect.succeed(null),
    receive: (state, command, envelope) =>
      Effect.gen(function*() {
        if (command.slowMs) yield* Effect.sleep(command.slowMs)
        // the effect and the sequence it applied, in one fenced transaction (a copy is a no-op)
        yield* fences.transaction(envelope, sql`INSERT INTO tally (key, n) VALUES (${envelope.key}, ${command.n})`)
        return state
      })
  })
})

const settings: Partial<AppConfigShape> = {
  actorPartitions: 1,
  actors: { idleMillis: 5000, mailboxCapacity: 16, maxDeliver: 3, leaseTickMillis: 250, askTimeoutMillis: 3000 },
  actorRuntime: { leaseTtlMillis: 3000, ackWaitMillis: 5000, maxAckPending: 16, mailboxMaxMessages: 100_000, handlerTimeoutMillis: 10_000, parkAfter: 8 }
}

const Base = actorTestLayer(settings)

const startHost = startActorHost(Effect.map(makeTally, (b) => [b]))

const applied = (key: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ n: number }>`SELECT n FROM tally WHERE key = ${key} ORDER BY id`).pipe(
    Effect.map((rows) => rows.map((r) => r.n)),
    Effect.orDie
  )

const parkedMessages = Effect.gen(function*() {
  const nats = yield* Nats
  const info = yield* Effect.promise(() => nats.jsm.streams.info(nats.name(StreamNames.parked)))
  return info.state.messages
})

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe("a slow key parks itself, not its partition", () => {
  layer(Base, { timeout: "120 seconds", excludeTestServices: true })((it) => {
    it.effect("setup", () =>
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql`CREATE TABLE tally (id bigserial PRIMARY KEY, key text NOT NULL, n int NOT NULL)`).pipe(Effect.orDie))

    it.effect("other keys are served while a slow key's backlog waits in PARKED; the slow key keeps its order", () =>
      Effect.gen(function*() {
        const actors = yield* Actors.Actors
        const { host, scope } = yield* startHost
        yield* until(host.ownedPartitions, (o) => o.length === 1)
        for (const n of range(1, 60)) yield* actors.send(Tally, "slow", { n, slowMs: 25 })
        const others = range(1, 10).map((i) => `other${i}`)
        for (const n of range(1, 4)) for (const key of others) yield* actors.send(Tally, key, { n })
        // every other key done while most of the slow key's commands still wait
        yield* until(Effect.forEach(others, applied), (all) => all.every((ns) => ns.length === 4), 30_000)
        const slowSoFar = (yield* applied("slow")).length
        assert.isBelow(slowSoFar, 40, `the other keys waited for ${slowSoFar} of the slow key's commands`)
        for (const key of others) assert.deepStrictEqual(yield* applied(key), [1, 2, 3, 4])
        // and the slow key: all of it, in send order, once each; PARKED emptied behind it
        const slow = yield* until(applied("slow"), (ns) => ns.length >= 60, 60_000)
        assert.deepStrictEqual(slow, range(1, 60))
        yield* until(parkedMessages, (n) => n === 0)
        yield* until(host.actors, (a) => a.some((s) => s.key === "slow" && s.mailboxDepth === 0))
        // unparked: a command sent now is handled directly, after all of the backlog
        yield* actors.send(Tally, "slow", { n: 61 })
        assert.deepStrictEqual(yield* until(applied("slow"), (ns) => ns.length === 61), range(1, 61))
        yield* Scope.close(scope, Exit.void)
      }))

    it.effect("a parked backlog moves with its partition: the next holder goes on in order, exactly once", () =>
      Effect.gen(function*() {
        const actors = yield* Actors.Actors
        const first = yield* startHost
        yield* until(first.host.ownedPartitions, (o) => o.length === 1)
        for (const n of range(1, 50)) yield* actors.send(Tally, "moving", { n, slowMs: 40 })
        // parked: most of the backlog is in PARKED, a few commands are done
        yield* until(parkedMessages, (n) => n >= 20)
        // a second node; the first one leaves (SIGTERM) while the key is parked
        const second = yield* startHost
        yield* Scope.close(first.scope, Exit.void)
        yield* until(second.host.ownedPartitions, (o) => o.length === 1, 30_000)
        for (const n of range(51, 55)) yield* actors.send(Tally, "moving", { n })
        const all = yield* until(applied("moving"), (ns) => ns.length >= 55, 60_000)
        assert.deepStrictEqual(all, range(1, 55))
        yield* until(parkedMessages, (n) => n === 0)
        yield* Effect.sleep("500 millis")
        assert.deepStrictEqual(yield* applied("moving"), range(1, 55))
        yield* Scope.close(second.scope, Exit.void)
      }))
  })
})
