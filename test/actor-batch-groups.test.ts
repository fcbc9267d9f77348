/**
 * The actor runtime's batch grouping (ActorHost `handleBatches`, behaviour `batch.receiveMany`),
 * with a test kind whose batches record how they were applied: batches that queued up behind each
 * other for a partition's batch key are applied by one `receiveMany` call, in stream order; when
 * that call fails the runtime falls back to `receive` one by one, so a poison batch is retried
 * ACTOR_MAX_DELIVER times and dead-lettered alone while every other batch of its group is applied
 * exactly once. Batches queue deterministically: the first one waits on a gate that the test
 * opens only once the batch actor holds all the others.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Exit, LogLevel, Option, Schema, Scope } from "effect"
import { behaviour, BatchKey, kind } from "../src/actors/runtime/Actor.ts"
import * as Actors from "../src/actors/runtime/Actors.ts"
import { Nats } from "../src/streams/Nats.ts"
import { StreamNames } from "../src/streams/Topology.ts"
import { actorTestLayer, startActorHost } from "./support/actors.ts"
import { until } from "./support/harness.ts"

const BatchSchema = Schema.Struct({ id: Schema.String, gate: Schema.optional(Schema.String), poison: Schema.optional(Schema.Boolean) })
type Batch = typeof BatchSchema.Type
const Batcher = kind({ name: "batcher", command: Schema.Struct({ id: Schema.String }), batch: BatchSchema })

interface Call {
  readonly via: "many" | "one"
  readonly ids: ReadonlyArray<string>
  readonly seqs: ReadonlyArray<number>
  readonly keys: ReadonlyArray<string>
  ok: boolean
}

/** Every receive / receiveMany call, in the order they began. */
const calls: Array<Call> = []
/** How many times each batch was applied. */
const applied = new Map<string, number>()
/** Gates batches wait on, by name: opened by the test. */
const gates = new Map<string, { readonly promise: Promise<void>; readonly open: () => void }>()
const gate = (name: string) => {
  let open!: () => void
  const promise = new Promise<void>((resolve) => (open = resolve))
  gates.set(name, { promise, open })
}
const waitGates = (batches: ReadonlyArray<Batch>) =>
  Effect.promise(() => Promise.all(batches.flatMap((b) => (b.gate === undefined ? [] : [gates.get(b.gate)!.promise]))))

const apply = (batches: ReadonlyArray<Batch>) =>
  Effect.sync(() => {
    for (const b of batches) applied.set(b.id, (applied.get(b.id) ?? 0) + 1)
  })

const batcher = behaviour({
  kind: Batcher,
  hydrate: () => Effect.succeed({}),
  receive: (state) => Effect.succeed(state),
  batch: {
    commutative: true,
    receive: (b, envelope) =>
      Effect.gen(function*() {
        const call: Call = { via: "one", ids: [b.id], seqs: [envelope.seq], keys: [envelope.key], ok: false }
        calls.push(call)
        yield* waitGates([b])
        if (b.poison === true) return yield* Effect.fail(new Error(`poison ${b.id}`))
        yield* apply([b])
        call.ok = true
      }),
    // all or nothing, as a Redis script would be: a poison batch in the group applies none
    receiveMany: (batches, envelopes) =>
      Effect.gen(function*() {
        const call: Call = { via: "many", ids: batches.map((b) => b.id), seqs: envelopes.map((e) => e.seq), keys: envelopes.map((e) => e.key), ok: false }
        calls.push(call)
        yield* waitGates(batches)
        if (batches.some((b) => b.poison === true)) return yield* Effect.fail(new Error("a poison batch in the group"))
        yield* apply(batches)
        call.ok = true
      })
  }
})

const maxDeliver = 3
const Base = actorTestLayer({
  actorPartitions: 2,
  actors: { idleMillis: 60_000, mailboxCapacity: 16, maxDeliver, leaseTickMillis: 300, askTimeoutMillis: 3000 }
}, LogLevel.None)

const startHost = startActorHost(Effect.succeed([batcher]))

const PARTITION = 1
/** ActorHost's BATCH_GROUP: batches one `receiveMany` call takes at most. */
const BATCH_GROUP = 32

describe("actor batch groups", () => {
  layer(Base, { timeout: "120 seconds", excludeTestServices: true })((it) => {
    it.effect("queued batches go to one receiveMany; a failing group falls back to receive, the poison batch alone is dead-lettered", () =>
      Effect.gen(function*() {
        const actors = yield* Actors.Actors
        const nats = yield* Nats
        const { host, scope } = yield* startHost
        yield* until(host.ownedPartitions, (p) => p.length === 2)
        assert.deepStrictEqual(yield* host.ownedPartitions, [0, 1])
        const depth = Effect.map(host.actor(Batcher.name, BatchKey), (s) => (Option.isSome(s) ? s.value.mailboxDepth : 0))
        const send = (b: Batch) => Effect.orDie(actors.sendBatch(Batcher, PARTITION, b))
        const began = (id: string) => Effect.sync(() => calls.some((c) => c.ids.includes(id)))

        /** A gated head, then `ids` queued behind it; the gate opens once the batch actor holds them all. */
        const wave = (name: string, ids: ReadonlyArray<string>, poison: string | undefined) =>
          Effect.gen(function*() {
            gate(name)
            yield* send({ id: `${name}-head`, gate: name })
            assert.isTrue(yield* until(began(`${name}-head`), (b) => b), `${name}: the head is being applied`)
            for (const id of ids) yield* send(id === poison ? { id, poison: true } : { id })
            const queued = yield* until(depth, (n) => n === ids.length + 1)
            assert.strictEqual(queued, ids.length + 1, `${name}: every batch waits behind the head`)
            gates.get(name)!.open()
          })
        const dlqCount = Effect.promise(() => nats.jsm.streams.info(nats.name(StreamNames.actorDlq)).then((i) => i.state.messages))

        // wave 1: twenty batches queued behind the head, the eighth of them poison
        const first = Array.from({ length: 20 }, (_, i) => `w1-${i}`)
        const poison = first[7]!
        yield* wave("w1", first, poison)
        const good1 = [`w1-head`, ...first.filter((id) => id !== poison)]
        yield* until(Effect.zip(dlqCount, Effect.sync(() => good1.every((id) => applied.get(id) === 1))), ([n, all]) => n >= 1 && all)
        yield* until(depth, (n) => n === 0)

        // the head alone, by receive; then the other twenty in one receiveMany, in stream order
        const w1 = calls.filter((c) => c.ids.some((id) => id.startsWith("w1-")))
        assert.deepStrictEqual(w1[0], { via: "one", ids: ["w1-head"], seqs: w1[0]!.seqs, keys: [BatchKey], ok: true })
        const group = w1[1]!
        assert.strictEqual(group.via, "many")
        assert.deepStrictEqual(group.ids, first, "one receiveMany takes every batch queued, in their order")
        assert.isFalse(group.ok)
        assert.deepStrictEqual(group.keys, first.map(() => BatchKey))
        assert.isTrue(group.seqs.every((s, i) => i === 0 || s > group.seqs[i - 1]!), "envelopes in stream order")
        // then one by one: every good batch once, the poison one retried in place until dead-lettered
        const fallback = w1.slice(2)
        assert.isTrue(fallback.every((c) => c.via === "one" && c.ids.length === 1), "after a failed group: receive, one by one")
        assert.deepStrictEqual(
          fallback.map((c) => c.ids[0]),
          [...first.slice(0, 7), ...Array.from({ length: maxDeliver }, () => poison), ...first.slice(8)]
        )
        assert.isTrue(fallback.filter((c) => c.ids[0] === poison).every((c) => !c.ok))
        assert.deepStrictEqual(good1.filter((id) => applied.get(id) !== 1), [], "every good batch applied exactly once")
        assert.isFalse(applied.has(poison))

        assert.strictEqual(yield* dlqCount, 1, "only the poison batch is dead-lettered")
        const letter = yield* Effect.promise(() => nats.jsm.streams.getMessage(nats.name(StreamNames.actorDlq), { seq: 1 }))
        const record = letter!.json<{ kind: string; key: string; partition: number; deliveries: number; payload: Batch }>()
        assert.strictEqual(record.kind, Batcher.name)
        assert.strictEqual(record.key, BatchKey)
        assert.strictEqual(record.partition, PARTITION)
        assert.deepStrictEqual(record.payload, { id: poison, poison: true })
        assert.strictEqual(record.deliveries, maxDeliver)

        // wave 2: forty good batches behind a head: applied by receiveMany in groups of at most
        // BATCH_GROUP, each exactly once, no fallback
        const second = Array.from({ length: 40 }, (_, i) => `w2-${i}`)
        const before = calls.length
        yield* wave("w2", second, undefined)
        yield* until(Effect.sync(() => second.every((id) => applied.get(id) === 1)), (all) => all)
        yield* until(depth, (n) => n === 0)
        const w2 = calls.slice(before)
        assert.deepStrictEqual(w2[0]!.ids, ["w2-head"])
        const groups = w2.slice(1)
        assert.isTrue(groups.every((c) => c.via === "many" && c.ok), "good batches queued together: receiveMany only")
        assert.deepStrictEqual(groups.map((c) => c.ids.length), [BATCH_GROUP, second.length - BATCH_GROUP])
        assert.deepStrictEqual(groups.flatMap((c) => c.ids), second)
        assert.deepStrictEqual([...second, "w2-head"].filter((id) => applied.get(id) !== 1), [])
        assert.strictEqual(yield* dlqCount, 1)

        // and nothing of either wave is applied again later (acknowledged, not redelivered)
        const stats = yield* host.actor(Batcher.name, BatchKey)
        assert.isTrue(Option.isSome(stats) && stats.value.handled === 1 + 19 + 1 + 40)
        yield* Scope.close(scope, Exit.void)
        assert.deepStrictEqual([...applied.values()].filter((n) => n !== 1), [])
      }))
  })
})
