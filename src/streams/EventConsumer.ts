/**
 * A durable EVENTS consumer as a scoped fiber: each event is handled, then acknowledged; a failure
 * naks it with a growing delay; the consumer restarts after a connection loss. Handlers must
 * tolerate an event seen twice (a redelivery, or an admin's replay of a dead letter).
 *
 * `consumeEvents` decodes each envelope into the `DomainEvent` union and hands the handler only the
 * types EventRoutes.ts routes to that consumer; another known type its filter lets through is
 * acknowledged unhandled. An unknown type or version, or a payload that does not match its schema,
 * is dead-lettered on its first delivery: decoding again would fail again.
 *
 * Nothing is dropped silently: the JetStream consumers have no `max_deliver` of their own
 * (Topology.ts); this code counts, and on delivery EVENTS_MAX_DELIVER a failed event is
 * dead-lettered (DeadLetter.ts: a row, `dlq.ev.<consumer>`, a log line, a count) and only then
 * terminated. When the dead letter itself cannot be written (the database down), the event is
 * naked and comes back, so it is dead-lettered once the database is back — never lost.
 *
 * With tracing on, each delivery is settled in an `event <type>` span continuing the trace of the
 * outbox row that published it (its `traceparent` header).
 */
import { Cause, Effect, Either, Option, Schedule, Stream } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { decodeEvent, type EventOf, isKnownEvent } from "../domain/DomainEvents.ts"
import { EventEnvelope, eventSubject } from "../domain/Events.ts"
import { Tracing } from "../observability/Tracing.ts"
import { Bus, type Delivery } from "./Bus.ts"
import { dlqSubject, makeDeadLetters } from "./DeadLetter.ts"
import { type EventConsumerName, EventConsumers, isRoutedTo, type RoutedTo } from "./EventRoutes.ts"
import { StreamNames } from "./Topology.ts"

const retryDelay = (deliveryCount: number) => Math.min(1000 * deliveryCount, 30_000)

/**
 * What to do with one envelope: Left dead-letters it now (with the reason), Right(None)
 * acknowledges it unhandled, Right(Some) runs the handler (retried, then dead-lettered).
 */
type Plan<R> = (envelope: EventEnvelope) => Either.Either<Option.Option<Effect.Effect<void, unknown, R>>, string>

/** Consumer `C` of EventRoutes.ts: `handle` gets the events routed to it, decoded. */
export const consumeEvents = <C extends EventConsumerName, R>(
  consumer: C,
  handle: (event: EventOf<RoutedTo<C>>, envelope: EventEnvelope) => Effect.Effect<void, unknown, R>
) =>
  run<R>(consumer, EventConsumers[consumer].concurrency, (envelope) => {
    if (isRoutedTo(consumer, envelope.type)) {
      return Either.map(decodeEvent(envelope), (event) => Option.some(handle(event as EventOf<RoutedTo<C>>, envelope)))
    }
    // another consumer's event: its payload is not ours to judge, but an unknown type or version is news
    return isKnownEvent(envelope.type, envelope.version)
      ? Either.right(Option.none())
      : Either.left(`unknown event ${envelope.type}@${envelope.version}`)
  })

/**
 * Every envelope of `durable` to `handle`, undecoded: for consumers outside EventRoutes.ts (tests
 * and tools). The JetStream consumer must exist (`ensureConsumer(eventsConsumerSpec(…))`).
 */
export const consumeEnvelopes = <R>(
  durable: string,
  concurrency: number,
  handle: (envelope: EventEnvelope) => Effect.Effect<void, unknown, R>
) => run<R>(durable, concurrency, (envelope) => Either.right(Option.some(handle(envelope))))

const run = <R>(durable: string, concurrency: number, plan: Plan<R>) =>
  Effect.gen(function*() {
    const bus = yield* Bus
    const config = yield* AppConfig
    const tracing = yield* Tracing
    const maxDeliver = config.eventsMaxDeliver
    const { deadLetter } = yield* makeDeadLetters

    const giveUp = (d: Delivery<EventEnvelope>, error: string) =>
      deadLetter({
        dedupKey: `ev:${durable}:${d.streamSequence}`,
        source: "events",
        consumer: durable,
        subject: eventSubject(d.value.type),
        payload: d.value,
        error,
        deliveries: d.deliveryCount,
        streamSeq: d.streamSequence,
        publishedAt: d.publishedAt ?? null
      }, dlqSubject("events", durable)).pipe(
        Effect.zipRight(d.term(`dead-lettered after ${d.deliveryCount} deliveries`)),
        Effect.catchAllCause((cause) =>
          Effect.logError("dead-letter failed; event left for redelivery", cause).pipe(
            Effect.annotateLogs({ consumer: durable, seq: d.streamSequence }),
            Effect.zipRight(d.nak(retryDelay(d.deliveryCount)))
          )
        )
      )

    const settle = (d: Delivery<EventEnvelope>): Effect.Effect<void, never, R> => {
      const planned = plan(d.value)
      if (Either.isLeft(planned)) {
        return Effect.logWarning("undecodable event").pipe(
          Effect.annotateLogs({ consumer: durable, type: d.value.type, id: d.value.id, reason: planned.left }),
          Effect.zipRight(giveUp(d, planned.left))
        )
      }
      if (Option.isNone(planned.right)) return d.ack
      // kept alive while it runs: past ack_wait (30 s) JetStream would hand it to another node too
      const handled = Effect.scoped(
        Effect.zipRight(Effect.forkScoped(Effect.repeat(Effect.delay(d.working, "10 seconds"), Schedule.forever)), planned.right.value)
      )
      // past the last delivery already (a crash mid-handling, a failed dead letter): do not run it again
      return (d.deliveryCount > maxDeliver ? Effect.fail("delivered more often than EVENTS_MAX_DELIVER") : handled).pipe(
        Effect.matchCauseEffect({
          onSuccess: () => d.ack,
          onFailure: (cause) => {
            const error = Cause.pretty(cause).split("\n")[0]!.slice(0, 500)
            if (d.deliveryCount >= maxDeliver) return giveUp(d, error)
            return Effect.logWarning("event handling failed; will retry", cause).pipe(
              Effect.annotateLogs({ consumer: durable, type: d.value.type, id: d.value.id, delivery: d.deliveryCount }),
              Effect.zipRight(d.nak(retryDelay(d.deliveryCount)))
            )
          }
        })
      )
    }
    const traced = (d: Delivery<EventEnvelope>) =>
      tracing.continueFrom(settle(d), `event ${d.value.type}`, tracing.fromHeaders((name) => d.headers?.get(name)), {
        attributes: {
          "messaging.consumer.group.name": durable,
          "messaging.destination.name": d.subject,
          "messaging.message.id": d.value.id,
          "jetstream.sequence": d.streamSequence,
          "jetstream.delivery_count": d.deliveryCount
        }
      })
    yield* bus.consume(StreamNames.events, durable, EventEnvelope, { maxMessages: 64 }).pipe(
      Stream.mapEffect(tracing.enabled ? traced : settle, { concurrency, unordered: true }),
      Stream.runDrain,
      Effect.tapErrorCause((cause) => Effect.logWarning(`${durable} consumer stopped; restarting`, cause)),
      Effect.retry(Schedule.spaced("1 second")),
      Effect.forkScoped
    )
  })
