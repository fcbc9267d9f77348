/** Migrations, topology declarations and the typed JetStream consumer. */
import { PgMigrator } from "@effect/sql-pg"
import { Migrator } from "@effect/sql"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, layer } from "@effect/vitest"
import { Chunk, Effect, Layer, Logger, LogLevel, Schema, Stream } from "effect"
import { CoreLive } from "../src/App.ts"
import { migrations } from "../src/db/migrations/index.ts"
import { Bus, topic } from "../src/streams/Bus.ts"
import { Nats } from "../src/streams/Nats.ts"
import { ensureTopology, StreamNames } from "../src/streams/Topology.ts"
import { TestConfig } from "./support/harness.ts"
import { AckPolicy } from "@nats-io/jetstream"

const Core = CoreLive.pipe(Layer.provideMerge(TestConfig()), Layer.provide(Logger.minimumLogLevel(LogLevel.None)))

class Ping extends Schema.Class<Ping>("Ping")({ n: Schema.Int }) {}

describe("infrastructure", () => {
  layer(Core, { timeout: "60 seconds" })((it) => {
    it.effect("migrations already applied at start apply again as a no-op", () =>
      Effect.gen(function*() {
        const again = yield* PgMigrator.run({ loader: Migrator.fromRecord(migrations), table: "aperture_migrations" }).pipe(
          Effect.provide(NodeContext.layer)
        )
        assert.deepStrictEqual(again, [])
        const twice = yield* PgMigrator.run({ loader: Migrator.fromRecord(migrations), table: "aperture_migrations" }).pipe(
          Effect.provide(NodeContext.layer)
        )
        assert.deepStrictEqual(twice, [])
      }))

    it.effect("the topology declares again without error and keeps the streams' configuration", () =>
      Effect.gen(function*() {
        yield* ensureTopology()
        yield* ensureTopology()
        const nats = yield* Nats
        const events = yield* Effect.promise(() => nats.jsm.streams.info(nats.name(StreamNames.events)))
        assert.deepStrictEqual(events.config.subjects, [nats.subject("ev.>")])
        const media = yield* Effect.promise(() => nats.jsm.consumers.info(nats.name(StreamNames.media), "media-worker"))
        assert.strictEqual(media.config.max_deliver, 5)
        assert.strictEqual(media.config.ack_policy, AckPolicy.Explicit)
      }))

    it.effect("typed publish dedups by msg id; the consumer acks, redelivers after nak and stops after term", () =>
      Effect.gen(function*() {
        const bus = yield* Bus
        const nats = yield* Nats
        const stream = nats.name("PINGS")
        yield* Effect.promise(() => nats.jsm.streams.add({ name: stream, subjects: [nats.subject("ping.>")] }))
        yield* Effect.promise(() =>
          nats.jsm.consumers.add(stream, { durable_name: "pinger", ack_policy: AckPolicy.Explicit, max_deliver: 5 })
        )
        const pings = topic("ping.test", Ping)
        const a1 = yield* bus.publish(pings, new Ping({ n: 1 }), { msgId: "ping-1" })
        const a2 = yield* bus.publish(pings, new Ping({ n: 1 }), { msgId: "ping-1" })
        assert.isTrue(a2.duplicate)
        assert.strictEqual(a1.seq, a2.seq)
        yield* bus.publish(pings, new Ping({ n: 2 }), { msgId: "ping-2" })
        yield* bus.publishRaw("ping.test", new TextEncoder().encode("not json"), { msgId: "ping-bad" })
        yield* bus.publish(pings, new Ping({ n: 3 }), { msgId: "ping-3" })

        const seen = yield* bus.consume("PINGS", "pinger", Ping).pipe(
          Stream.mapEffect((d) =>
            Effect.gen(function*() {
              if (d.value.n === 2 && d.deliveryCount === 1) yield* d.nak(50)
              else if (d.value.n === 3) yield* d.term("not wanted")
              else yield* d.ack
              return `${d.value.n}:${d.deliveryCount}`
            })
          ),
          Stream.take(4),
          Stream.runCollect
        )
        assert.deepStrictEqual(Chunk.toArray(seen).sort(), ["1:1", "2:1", "2:2", "3:1"])
        yield* Effect.promise(() => nats.connection.flush())
        let info = yield* Effect.promise(() => nats.jsm.consumers.info(stream, "pinger"))
        for (let i = 0; i < 50 && info.num_ack_pending > 0; i++) {
          yield* Effect.promise(() => new Promise((r) => setTimeout(r, 50)))
          info = yield* Effect.promise(() => nats.jsm.consumers.info(stream, "pinger"))
        }
        assert.strictEqual(info.num_ack_pending, 0)
        assert.strictEqual(info.num_pending, 0)
        yield* Effect.promise(() => nats.jsm.streams.delete(stream))
      }))
  })
})
