/**
 * The subject → consumer table (EventRoutes.ts) against the union and the JetStream topology:
 * every event type has a row, every consumer named there exists in Topology with a filter that
 * lets the routed types through, and ordered consumers are declared so (max_ack_pending 1).
 */
import { assert, describe, it } from "@effect/vitest"
import { type Context, Effect } from "effect"
import type { OutboxRepo } from "../db/Outbox.ts"
import { eventTypes } from "../domain/DomainEvents.ts"
import { eventSubject } from "../domain/Events.ts"
import { consumeEvents } from "./EventConsumer.ts"
import { consumersOf, EventConsumers, EventRoutes, isRoutedTo, subjectMatches } from "./EventRoutes.ts"
import { consumerSpecs, StreamNames } from "./Topology.ts"

const specs = consumerSpecs({ ackWaitSeconds: 30, retryDelaysMillis: [1000] })
const eventsConsumers = specs.filter((s) => s.stream === StreamNames.events)

describe("EventRoutes", () => {
  it("has a row for every event type of the union, and none for anything else", () => {
    assert.deepStrictEqual([...Object.keys(EventRoutes)].sort(), [...eventTypes].sort())
  })

  it("every routed consumer is an EVENTS consumer of Topology whose filter matches the type", () => {
    for (const type of eventTypes) {
      for (const consumer of consumersOf(type)) {
        const spec = eventsConsumers.find((s) => s.durable_name === consumer)
        assert.isDefined(spec, `${consumer} (routed ${type}) is declared in Topology`)
        assert.isTrue(subjectMatches(spec!.filter_subject!, eventSubject(type)), `${consumer}'s filter ${spec!.filter_subject} lets ${type} through`)
      }
    }
  })

  it("Topology declares exactly the consumers of the table, with their filters and ordering", () => {
    assert.deepStrictEqual(eventsConsumers.map((s) => s.durable_name).sort(), Object.keys(EventConsumers).sort())
    for (const spec of eventsConsumers) {
      const declared = EventConsumers[spec.durable_name as keyof typeof EventConsumers]
      assert.strictEqual(spec.filter_subject, declared.filter)
      assert.strictEqual(spec.max_ack_pending, declared.ordered ? 1 : 1000, spec.durable_name)
      if (declared.ordered) assert.strictEqual(declared.concurrency, 1, `${spec.durable_name} is ordered: one at a time`)
    }
  })

  it("every consumer acts on some type", () => {
    for (const consumer of Object.keys(EventConsumers)) {
      assert.isTrue(eventTypes.some((t) => isRoutedTo(consumer as keyof typeof EventConsumers, t)), consumer)
    }
  })

  it("what happens after a follow", () => {
    assert.deepStrictEqual([...consumersOf("user.followed")].sort(), ["notifications", "timeline-graph"])
    assert.deepStrictEqual(consumersOf("post.saved"), [])
    assert.isFalse(isRoutedTo("notifications", "user.waved"))
  })

  it("matches subjects the way NATS does", () => {
    assert.isTrue(subjectMatches("ev.>", "ev.user.followed"))
    assert.isTrue(subjectMatches("ev.user.>", "ev.user.followed"))
    assert.isFalse(subjectMatches("ev.user.>", "ev.user"))
    assert.isFalse(subjectMatches("ev.post.>", "ev.user.followed"))
    assert.isTrue(subjectMatches("ev.*.followed", "ev.user.followed"))
    assert.isFalse(subjectMatches("ev.*", "ev.user.followed"))
    assert.isTrue(subjectMatches("ev.user.followed", "ev.user.followed"))
    assert.isFalse(subjectMatches("ev.user.followed", "ev.user.followed.x"))
  })

  it("producers and consumers are typed by the union and the table (checked by tsc)", () => {
    // never run: only compiled
    const wrong = (append: Context.Tag.Service<typeof OutboxRepo>["append"]) => {
      // @ts-expect-error the untyped append of before
      append("user.followed", { followerId: "a", followeeId: "b" })
      consumeEvents("timeline-graph", (e) => {
        // @ts-expect-error timeline-graph is handed user.* events only
        if (e.type === "post.liked") return Effect.void
        return Effect.void
      })
      consumeEvents("timeline-fanout", (e) =>
        // @ts-expect-error a post.deleted has no variants
        e.type === "post.deleted" ? Effect.log(e.variants) : Effect.void)
    }
    assert.isFunction(wrong)
  })
})
