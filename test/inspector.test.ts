/**
 * The actor inspector and the live tail against a known workload on two nodes (two hosts in
 * this process, each its own node id, against the real NATS, PostgreSQL and Redis): N actors, one
 * mailbox held full on purpose, one actor restarted by a failing command. The figures the
 * inspector gathers over core NATS must be exactly those; a node that stops is named as missing.
 * The tail: nothing is published on `tap.>` while nobody observes; filters select on the server;
 * the rate limit drops and counts the excess.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Schema, Scope } from "effect"
import { behaviour, kind, partitionOf } from "../src/actors/runtime/Actor.ts"
import * as ActorHost from "../src/actors/runtime/ActorHost.ts"
import * as Actors from "../src/actors/runtime/Actors.ts"
import * as Inspector from "../src/actors/runtime/Inspector.ts"
import { AppConfig, type AppConfigShape } from "../src/config/AppConfig.ts"
import type { ObserveStats, Tap } from "../src/domain/Inspector.ts"
import { Nats } from "../src/streams/Nats.ts"
import { Taps } from "../src/streams/Taps.ts"
import { actorTestLayer } from "./support/actors.ts"
import { until } from "./support/harness.ts"

const Gate = kind({ name: "gate", command: Schema.Struct({ n: Schema.Number }) })

/** `held` waits while `holding` is set; `flaky` fails its first attempt; the rest succeed at once. */
let holding = false
const failedOnce = new Set<string>()
const gate = behaviour({
  kind: Gate,
  hydrate: (key) => Effect.succeed({ key, seen: 0 }),
  receive: (state, command) =>
    Effect.gen(function*() {
      if (state.key === "held") while (holding) yield* Effect.sleep("20 millis")
      if (state.key === "flaky" && !failedOnce.has(`${command.n}`)) {
        failedOnce.add(`${command.n}`)
        return yield* Effect.fail(new Error("flaky fails once"))
      }
      return { ...state, seen: state.seen + 1 }
    }),
  describe: (state) => state
})

const settings: Partial<AppConfigShape> = {
  actorPartitions: 4,
  actors: { idleMillis: 120_000, mailboxCapacity: 64, maxDeliver: 5, leaseTickMillis: 250, askTimeoutMillis: 3000 },
  actorRuntime: { leaseTtlMillis: 3000, ackWaitMillis: 10_000, maxAckPending: 256, mailboxMaxMessages: 100_000, handlerTimeoutMillis: 30_000, parkAfter: 1000 },
  observe: { interestMillis: 3000, maxPerSecond: 5, inspectTimeoutMillis: 1000, recentCommands: 20 }
}

const Base = actorTestLayer(settings)

const hostNamed = (suffix: string) =>
  ActorHost.layer([gate]).pipe(
    Layer.provide(Layer.effect(AppConfig, Effect.map(AppConfig, (c) => ({ ...c, nodeId: `${c.nodeId}-${suffix}` }))))
  )

const startHost = (suffix: string) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(hostNamed(suffix), scope)
    return { host: Context.get(context, ActorHost.ActorHost), scope }
  })

const realSleep = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

describe("actor inspector", () => {
  layer(Base, { timeout: "180 seconds", excludeTestServices: true })((it) => {
    it.effect("figures of a known workload on two nodes, a full mailbox, a restart, a node gone; taps only while observed", () =>
      Effect.gen(function*() {
        const actors = yield* Actors.Actors
        const config = yield* AppConfig
        const nats = yield* Nats
        const taps = yield* Taps
        const inspector = yield* Inspector.make(["gate"])
        const a = yield* startHost("a")
        const b = yield* startHost("b")
        yield* until(Effect.zip(a.host.ownedPartitions, b.host.ownedPartitions), ([pa, pb]) => pa.length === 2 && pb.length === 2, 30_000)

        // nothing goes out on tap.> while nobody observes
        const raw: Array<string> = []
        const rawSub = nats.connection.subscribe(nats.subject("tap.>"), { callback: (_e, m) => void raw.push(m.subject) })
        assert.isFalse(taps.anyone())

        const N = 40
        const keys = Array.from({ length: N }, (_, i) => `k${i}`)
        yield* Effect.forEach(keys, (k) => actors.send(Gate, k, { n: 0 }), { concurrency: 8, discard: true })
        yield* actors.send(Gate, "flaky", { n: 1 })
        holding = true
        const HELD = 10
        for (let i = 0; i < HELD; i++) yield* actors.send(Gate, "held", { n: i })

        const ready = yield* until(inspector.overview(20), (o) =>
          (o.kinds.find((k) => k.kind === "gate")?.live ?? 0) === N + 2 &&
          o.top.mailboxDepth[0]?.mailboxDepth === HELD &&
          o.top.restarts[0]?.key === "flaky" && o.top.restarts[0]?.handled === 1, 30_000)
        const nodeA = `${config.nodeId}-a`
        const nodeB = `${config.nodeId}-b`
        const byNode = new Map(ready.nodes.map((n) => [n.node, n]))
        assert.strictEqual(byNode.get(nodeA)?.partitions, 2, JSON.stringify(ready.nodes))
        assert.strictEqual(byNode.get(nodeB)?.partitions, 2)
        assert.isAtMost(byNode.get(nodeA)!.heartbeatAgeMs!, 3000)
        assert.deepStrictEqual(ready.missing, [])
        const gateKind = ready.kinds.find((k) => k.kind === "gate")!
        assert.strictEqual(gateKind.live, N + 2)
        assert.strictEqual(gateKind.restarts, 1)
        assert.strictEqual(gateKind.mailboxDepth, HELD)
        // the partition map: every partition owned by the node that leases it, under its epoch
        const ownedA = new Set(yield* a.host.ownedPartitions)
        for (const p of ready.partitions) {
          assert.strictEqual(p.owner, ownedA.has(p.partition) ? nodeA : nodeB, `partition ${p.partition}`)
          assert.isAtLeast(p.epoch!, 1)
          assert.isAbove(Date.parse(p.leaseExpiresAt!), Date.now() - 1000)
          assert.isNotNull(p.pending)
        }
        // actors per partition add up to the live actors, each where its key hashes
        assert.strictEqual(ready.partitions.reduce((s, p) => s + p.actors, 0), N + 2)
        const held = ready.top.mailboxDepth[0]!
        assert.strictEqual(held.key, "held")
        assert.strictEqual(held.partition, partitionOf("held", 4))
        assert.strictEqual(held.node, ownedA.has(held.partition) ? nodeA : nodeB)
        assert.isTrue(ready.streams.some((s) => s.stream === nats.name("MAILBOX") && s.messages >= HELD - 1))

        // the detail of the full mailbox and of the restarted actor, from their owners
        const heldDetail = yield* inspector.actor("gate", "held")
        assert.strictEqual(heldDetail.owner, held.node)
        assert.isTrue(heldDetail.alive)
        assert.strictEqual(heldDetail.mailboxDepth, HELD)
        assert.isNotNull(heldDetail.consumer)
        assert.isAtLeast(heldDetail.consumer!.ackPending, HELD - 1)
        const flaky = yield* inspector.actor("gate", "flaky")
        assert.strictEqual(flaky.restarts, 1)
        assert.deepStrictEqual(flaky.recent.map((r) => [r.outcome, r.attempt]), [["failed", 1], ["ok", 2]])
        assert.match(flaky.recent[0]!.error ?? "", /flaky fails once/)
        assert.deepStrictEqual(flaky.state, { key: "flaky", seen: 1 })
        const cold = yield* inspector.actor("gate", "never-seen")
        assert.isFalse(cold.alive)
        assert.isNotNull(cold.owner)

        holding = false
        yield* until(inspector.actor("gate", "held"), (d) => d.mailboxDepth === 0 && d.handled === HELD, 30_000)
        assert.deepStrictEqual(raw, [], "taps were published while nobody observed")

        // a filtered observer: only k1's commands reach it, with where and under which epoch they ran
        const seen: Array<Tap> = []
        const stats: Array<ObserveStats> = []
        const observerScope = yield* Scope.make()
        const observer = yield* taps.observe({ kinds: ["gate"], keys: ["k1"] }, (t) => seen.push(t), (s) => stats.push(s)).pipe(Scope.extend(observerScope))
        yield* until(Effect.sync(() => taps.anyone()), (x) => x, 5000)
        yield* actors.send(Gate, "k2", { n: 1 })
        yield* actors.send(Gate, "k1", { n: 1 })
        const one = yield* until(Effect.sync(() => seen), (s) => s.length >= 1, 10_000)
        yield* realSleep(300)
        assert.strictEqual(one.length, 1, JSON.stringify(one))
        const tap = one[0]!
        assert.strictEqual(tap.source, "actor")
        if (tap.source === "actor") {
          assert.strictEqual(tap.key, "k1")
          assert.strictEqual(tap.outcome, "ok")
          assert.strictEqual(tap.node, ownedA.has(partitionOf("k1", 4)) ? nodeA : nodeB)
          assert.isAtLeast(tap.epoch, 1)
        }
        // only k1 was published: the node-side check is the union of the filters
        assert.isTrue(raw.every((s) => s.endsWith("tap.actor.gate")))
        assert.strictEqual(raw.length, 1)

        // rate limit: 5 a second; 60 matching commands → about 5 sent, the rest counted as dropped
        observer.update({ kinds: ["gate"], keys: ["k3"] })
        // a second's stats closed after the change: the counts from here on are k3's alone
        const flushed = stats.length
        yield* until(Effect.sync(() => stats.length), (n) => n > flushed, 5000)
        seen.length = 0
        stats.length = 0
        for (let i = 0; i < 60; i++) yield* actors.send(Gate, "k3", { n: 100 + i })
        yield* until(Effect.sync(() => stats.reduce((s, x) => s + (x.perKind["gate"] ?? 0), 0)), (n) => n >= 60, 15_000)
        const counted = stats.reduce((s, x) => s + (x.perKind["gate"] ?? 0), 0)
        const dropped = stats.reduce((s, x) => s + x.dropped, 0)
        assert.strictEqual(counted, 60)
        assert.strictEqual(seen.length + dropped, 60)
        assert.isAtMost(seen.length, 5 * 4 + 5)
        assert.isAtLeast(dropped, 30)

        // stopped: its interest is withdrawn at once, and nothing is tapped any more
        yield* Scope.close(observerScope, Exit.void)
        rawSub.unsubscribe()
        yield* until(Effect.sync(() => taps.anyone()), (x) => !x, 5000)

        // a node that stops answering is named, not dropped silently; its partitions move
        yield* Scope.close(b.scope, Exit.void)
        const after = yield* until(inspector.overview(20), (o) => o.partitions.every((p) => p.owner === nodeA), 30_000)
        assert.include(after.missing, nodeB)
        assert.isFalse(after.nodes.some((n) => n.node === nodeB))
        yield* Scope.close(a.scope, Exit.void)
      }))
  })
})
