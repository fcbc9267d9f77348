/**
 * What EventRoutes.ts promises about EVENTS consumers. An ordered consumer handles events in stream
 * order: an event that fails and is redelivered holds the later ones back instead of being
 * overtaken, and two nodes reading the same durable consumer never handle two events at once. The
 * application's consumers dead-letter an event they cannot decode (unknown type or version, a
 * payload that does not match its schema) on its first delivery.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Ref } from "effect"
import { envelopeOf, PostSaved } from "../src/domain/DomainEvents.ts"
import { EventEnvelope } from "../src/domain/Events.ts"
import { Bus, topic } from "../src/streams/Bus.ts"
import { consumeEnvelopes } from "../src/streams/EventConsumer.ts"
import { Nats } from "../src/streams/Nats.ts"
import { ensureConsumer, eventsConsumerSpec } from "../src/streams/Topology.ts"
import { eventually } from "./support/harness.ts"
import { TestApp } from "./support/app.ts"

/** A real event no application consumer acts on, on its own subject. */
const saved = () =>
  envelopeOf(PostSaved.make({ postId: crypto.randomUUID(), userId: crypto.randomUUID() }), {
    id: crypto.randomUUID(),
    occurredAt: new Date().toISOString()
  })

const publish = (envelope: EventEnvelope) =>
  Effect.flatMap(Bus, (bus) => bus.publish(topic(`ev.${envelope.type}`, EventEnvelope), envelope, { msgId: envelope.id }))

describe("EVENTS consumer order", () => {
  layer(TestApp({ eventsMaxDeliver: 3 }), { timeout: "120 seconds", excludeTestServices: true })((it) => {
    it.scoped("an ordered consumer does not let later events overtake one that failed and is redelivered", () =>
      Effect.gen(function*() {
        const nats = yield* Nats
        const durable = "test-ordered-retry"
        yield* ensureConsumer(nats, eventsConsumerSpec(durable, { filter: "ev.post.saved", ordered: true }))
        const events = [saved(), saved(), saved()]
        const failedOnce = yield* Ref.make(false)
        const handled = yield* Ref.make<ReadonlyArray<string>>([])
        yield* consumeEnvelopes(durable, 1, (e) =>
          Effect.gen(function*() {
            if (e.id === events[0]!.id && !(yield* Ref.getAndSet(failedOnce, true))) {
              return yield* Effect.fail(new Error("first delivery fails"))
            }
            yield* Ref.update(handled, (h) => [...h, e.id])
          }))
        yield* Effect.forEach(events, publish, { discard: true })
        const order = yield* eventually(Ref.get(handled), (h) => h.length === 3, "all three handled")
        assert.isTrue(yield* Ref.get(failedOnce))
        assert.deepStrictEqual(order, events.map((e) => e.id), "the failed first event is still handled first")
      }))

    it.scoped("two nodes on one ordered consumer handle one event at a time, in stream order", () =>
      Effect.gen(function*() {
        const nats = yield* Nats
        const durable = "test-ordered-two-nodes"
        yield* ensureConsumer(nats, eventsConsumerSpec(durable, { filter: "ev.post.saved", ordered: true }))
        const inFlight = yield* Ref.make(0)
        const most = yield* Ref.make(0)
        const handled = yield* Ref.make<ReadonlyArray<{ readonly node: string; readonly id: string }>>([])
        const node = (name: string) =>
          consumeEnvelopes(durable, 4, (e) =>
            Effect.gen(function*() {
              const now = yield* Ref.updateAndGet(inFlight, (n) => n + 1)
              yield* Ref.update(most, (m) => Math.max(m, now))
              // a handler that takes a moment, so overlapping deliveries would overlap here
              yield* Effect.sleep("20 millis")
              yield* Ref.update(handled, (h) => [...h, { node: name, id: e.id }])
              yield* Ref.update(inFlight, (n) => n - 1)
            }))
        yield* node("a")
        yield* node("b")
        const events = Array.from({ length: 12 }, saved)
        yield* Effect.forEach(events, publish, { discard: true })
        const all = yield* eventually(Ref.get(handled), (h) => h.length === events.length, "every event handled")
        assert.strictEqual(yield* Ref.get(most), 1, "never two at once")
        assert.deepStrictEqual(all.map((h) => h.id), events.map((e) => e.id))
      }))

    it.scoped("the application's consumers dead-letter an event they cannot decode, on its first delivery", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const base = { occurredAt: new Date().toISOString() }
        const wrongPayload = new EventEnvelope({ ...base, id: crypto.randomUUID(), type: "user.followed", payload: { followerId: "nobody" } })
        const unknownType = new EventEnvelope({ ...base, id: crypto.randomUUID(), type: "user.waved", payload: {} })
        const unknownVersion = new EventEnvelope({
          ...base,
          id: crypto.randomUUID(),
          type: "user.followed",
          version: 7,
          payload: { followerId: crypto.randomUUID(), followeeId: crypto.randomUUID() }
        })
        yield* Effect.forEach([wrongPayload, unknownType, unknownVersion], publish, { discard: true })
        const letters = sql<{ consumer: string; eventId: string; deliveries: number; error: string }>`
          SELECT consumer, payload->>'id' AS event_id, deliveries, error FROM dead_letters WHERE source = 'events'`.pipe(Effect.orDie)
        const rows = yield* eventually(letters, (r) => r.length === 6, "six dead letters")
        const key = (r: { consumer: string; eventId: string }) => `${r.consumer} ${r.eventId}`
        assert.deepStrictEqual(
          rows.map(key).sort(),
          ["notifications", "timeline-graph"].flatMap((c) => [wrongPayload, unknownType, unknownVersion].map((e) => `${c} ${e.id}`)).sort()
        )
        for (const r of rows) assert.strictEqual(r.deliveries, 1, key(r))
        assert.isTrue(rows.some((r) => r.eventId === wrongPayload.id && /undecodable event user\.followed@1/.test(r.error)))
        assert.isTrue(rows.some((r) => r.eventId === unknownType.id && /user\.waved/.test(r.error)))
        assert.isTrue(rows.some((r) => r.eventId === unknownVersion.id && /user\.followed@7/.test(r.error)))
      }))
  })
})
