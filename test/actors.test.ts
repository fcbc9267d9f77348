/**
 * The actor runtime on its own, with a test kind (a counter persisted in Redis): ordering and
 * one-at-a-time handling, ask, restart after a defect with the command handled once, dead-lettering
 * after MaxDeliver, passivation and rehydration, and two hosts sharing partitions — one stops
 * while commands flow, its partitions move, and every command is handled exactly once.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Logger, LogLevel, Option, Schema, Scope } from "effect"
import { kind, behaviour } from "../src/actors/runtime/Actor.ts"
import * as ActorHost from "../src/actors/runtime/ActorHost.ts"
import * as Actors from "../src/actors/runtime/Actors.ts"
import { CoreLive } from "../src/App.ts"
import { AppConfig } from "../src/config/AppConfig.ts"
import { Redis } from "../src/redis/Redis.ts"
import { Nats } from "../src/streams/Nats.ts"
import { StreamNames } from "../src/streams/Topology.ts"
import { TestConfig, until } from "./support/harness.ts"

const Counter = kind({
  name: "counter",
  command: Schema.Struct({ id: Schema.String, fail: Schema.optional(Schema.Literal("once", "always")), delayMs: Schema.optional(Schema.Number) }),
  query: Schema.Struct({ get: Schema.Literal(true) })
})

/** Every handler invocation, by command id, across every host in this process. */
const invocations = new Map<string, number>()
const failedOnce = new Set<string>()
let hydrations = 0
let active = 0
let overlap = false

const makeCounter = Effect.map(Redis, (redis) => behaviour({
  kind: Counter,
  hydrate: (key, _envelope) =>
    Effect.gen(function*() {
      hydrations++
      const count = yield* Effect.promise(() => redis.client.get(`counter:${key}`))
      return { count: Number(count ?? 0) }
    }),
  receive: (state, command, envelope) =>
    Effect.gen(function*() {
      active++
      if (active > 1 && envelope.key === "serial") overlap = true
      try {
        if (command.delayMs) yield* Effect.sleep(command.delayMs)
        if (command.fail === "always") return yield* Effect.dieMessage("poison")
        if (command.fail === "once" && !failedOnce.has(command.id)) {
          failedOnce.add(command.id)
          return yield* Effect.dieMessage("transient defect")
        }
        invocations.set(command.id, (invocations.get(command.id) ?? 0) + 1)
        yield* Effect.promise(() => redis.client.incr(`counter:${envelope.key}`))
        return { count: state.count + 1 }
      } finally {
        active--
      }
    }),
  answer: (state) => Effect.succeed(state.count),
  describe: (state) => state
}))

const config = { actorPartitions: 8, actors: { idleMillis: 400, mailboxCapacity: 16, maxDeliver: 3, leaseTickMillis: 300, askTimeoutMillis: 3000 } }

const Base = Layer.mergeAll(Actors.layer).pipe(
  Layer.provideMerge(CoreLive),
  Layer.provideMerge(TestConfig(config)),
  Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
)

const hostNamed = (nodeId: string) =>
  Layer.unwrapEffect(Effect.map(makeCounter, (counter) => ActorHost.layer([counter]))).pipe(
    Layer.provide(Layer.effect(AppConfig, Effect.map(AppConfig, (c) => ({ ...c, nodeId: `${c.nodeId}-${nodeId}` }))))
  )

const startHost = (nodeId: string) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(hostNamed(nodeId), scope)
    return { host: Context.get(context, ActorHost.ActorHost), scope }
  })

describe("actor runtime", () => {
  layer(Base, { timeout: "120 seconds", excludeTestServices: true })((it) => {
    it.effect("one host owns every partition; commands for a key are handled in order, one at a time", () =>
      Effect.gen(function*() {
        const actors = yield* Actors.Actors
        const { host, scope } = yield* startHost("solo")
        yield* until(host.ownedPartitions, (p) => p.length === 8)
        assert.deepStrictEqual(yield* host.ownedPartitions, [0, 1, 2, 3, 4, 5, 6, 7])

        yield* Effect.forEach(Array.from({ length: 30 }, (_, i) => i), (i) => actors.send(Counter, "serial", { id: `s${i}`, delayMs: 2 }), {
          concurrency: 10,
          discard: true
        })
        const count = yield* until(Effect.orDie(actors.ask(Counter, "serial", { get: true })), (n) => n === 30)
        assert.strictEqual(count, 30)
        assert.isFalse(overlap, "two commands of one actor never run at once")
        const stats = yield* host.actor("counter", "serial")
        assert.isTrue(Option.isSome(stats) && stats.value.handled === 30)

        // a defect restarts the actor; the command comes back and is handled once
        yield* actors.send(Counter, "flaky", { id: "f1", fail: "once" })
        yield* until(Effect.sync(() => invocations.get("f1") ?? 0), (n) => n === 1)
        assert.strictEqual(invocations.get("f1"), 1)
        const flaky = yield* until(host.actor("counter", "flaky"), (s) => Option.isSome(s) && s.value.handled === 1)
        assert.isTrue(Option.isSome(flaky) && flaky.value.restarts === 1)

        // a poison command is dead-lettered with its key after MaxDeliver; the actor goes on
        const nats = yield* Nats
        yield* actors.send(Counter, "poisoned", { id: "p1", fail: "always" })
        yield* actors.send(Counter, "poisoned", { id: "p2" })
        const dlq = yield* until(
          Effect.promise(() => nats.jsm.streams.info(nats.name(StreamNames.actorDlq)).then((i) => i.state.messages)),
          (n) => n >= 1
        )
        assert.strictEqual(dlq, 1)
        const letter = yield* Effect.promise(() => nats.jsm.streams.getMessage(nats.name(StreamNames.actorDlq), { seq: 1 }))
        const record = letter!.json<{ key: string; deliveries: number; payload: { id: string } }>()
        assert.strictEqual(record.key, "poisoned")
        assert.strictEqual(record.payload.id, "p1")
        // retried in place: three attempts, then the key's next command — after, never before
        assert.strictEqual(record.deliveries, 3)
        yield* until(Effect.sync(() => invocations.get("p2") ?? 0), (n) => n === 1)
        assert.strictEqual(invocations.get("p2"), 1)

        // passivation after the idle timeout, then rehydration from Redis on the next message
        yield* until(host.actor("counter", "serial"), Option.isNone, 5000)
        assert.isTrue(Option.isNone(yield* host.actor("counter", "serial")))
        const before = hydrations
        yield* actors.send(Counter, "serial", { id: "s-after" })
        assert.strictEqual(yield* until(Effect.orDie(actors.ask(Counter, "serial", { get: true })), (n) => n === 31), 31)
        assert.isAbove(hydrations, before)
        yield* Scope.close(scope, Exit.void)
      }))

    it.effect("two hosts share the partitions; one stops while commands flow and none is lost or doubled", () =>
      Effect.gen(function*() {
        const actors = yield* Actors.Actors
        const a = yield* startHost("a")
        yield* until(a.host.ownedPartitions, (p) => p.length === 8)
        const b = yield* startHost("b")
        // the split settles at four each
        yield* until(Effect.zip(a.host.ownedPartitions, b.host.ownedPartitions), ([pa, pb]) => pa.length === 4 && pb.length === 4)
        const [pa, pb] = yield* Effect.zip(a.host.ownedPartitions, b.host.ownedPartitions)
        assert.strictEqual(pa.length, 4)
        assert.strictEqual(pb.length, 4)
        assert.deepStrictEqual([...pa, ...pb].sort(), [0, 1, 2, 3, 4, 5, 6, 7])

        const ids = Array.from({ length: 400 }, (_, i) => `h${i}`)
        const sending = Effect.forEach(ids, (id, i) => actors.send(Counter, `k${i % 40}`, { id, delayMs: 1 }), { concurrency: 8, discard: true })
        const fiber = yield* Effect.fork(sending)
        yield* until(Effect.sync(() => ids.filter((id) => invocations.has(id)).length), (n) => n >= 100)
        // stop A in the middle: it drains what it pulled and releases its leases; B takes them over
        yield* Scope.close(a.scope, Exit.void)
        yield* fiber.await
        // a release A could not complete on a loaded machine leaves its lease to expire (the TTL,
        // 15 s here) before B takes it over: wait past that, not just for B's next tick
        yield* until(b.host.ownedPartitions, (p) => p.length === 8, 40_000)
        assert.strictEqual((yield* b.host.ownedPartitions).length, 8)
        const handled = yield* until(Effect.sync(() => ids.filter((id) => invocations.get(id) === 1).length), (n) => n === ids.length, 30_000)
        assert.strictEqual(handled, ids.length)
        assert.deepStrictEqual(ids.filter((id) => (invocations.get(id) ?? 0) !== 1), [])
        yield* Scope.close(b.scope, Exit.void)
      }), { timeout: 120_000 })
  })
})
