/**
 * A durable EVENTS consumer as a scoped fiber: each event is handled, then acknowledged; a failure
 * naks it with a growing delay (JetStream redelivers it up to the consumer's max_deliver); the
 * consumer restarts after a connection loss. Handlers must tolerate an event seen twice.
 */
import { Effect, Schedule, Stream } from "effect"
import { EventEnvelope } from "../domain/Events.ts"
import { Bus, type Delivery } from "./Bus.ts"
import { StreamNames } from "./Topology.ts"

export const consumeEvents = (
  durable: string,
  concurrency: number,
  handle: (event: EventEnvelope) => Effect.Effect<void, unknown>
) =>
  Effect.gen(function*() {
    const bus = yield* Bus
    const settle = (d: Delivery<EventEnvelope>) =>
      handle(d.value).pipe(
        Effect.matchCauseEffect({
          onSuccess: () => d.ack,
          onFailure: (cause) =>
            Effect.logWarning("event handling failed; will retry", cause).pipe(
              Effect.annotateLogs({ consumer: durable, type: d.value.type, id: d.value.id }),
              Effect.zipRight(d.nak(Math.min(1000 * d.deliveryCount, 30_000)))
            )
        })
      )
    yield* bus.consume(StreamNames.events, durable, EventEnvelope, { maxMessages: 64 }).pipe(
      Stream.mapEffect(settle, { concurrency, unordered: true }),
      Stream.runDrain,
      Effect.tapErrorCause((cause) => Effect.logWarning(`${durable} consumer stopped; restarting`, cause)),
      Effect.retry(Schedule.spaced("1 second")),
      Effect.forkScoped
    )
  })
