/**
 * Story views, as they come in: exact and cheap. A view is answered once it is in JetStream (the
 * `story.viewed` events, stored in PostgreSQL by the `stories` consumer, StoryEvents.ts), never
 * before; on the way:
 *
 * - the same view asked for again while it is on its way (100 taps at once) waits for the first;
 * - views are gathered for STORY_VIEW_BATCH_MS (or STORY_VIEW_BATCH_SIZE of them) and go out as
 *   one event, so a burst costs a few publishes, not one each;
 * - a view already published (the story's `sv:` set in Redis) is answered without publishing again;
 *   it joins the set only after its PubAck, so one whose publish failed (answered 503) is published
 *   on the next try. A view published twice anyway (Redis lost its sets, two nodes at once) is
 *   stored once: PostgreSQL's primary key and the insert's own count are what make the count exact.
 * - the viewer's read pointer for the author moves in Redis at once (PostgreSQL's follows with the batch).
 */
import { Context, Deferred, Duration, Effect, Layer, Option, Queue } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { ServiceUnavailable } from "../domain/ApiError.ts"
import { envelopeOf, StoryViewed } from "../domain/DomainEvents.ts"
import { eventSubject } from "../domain/Events.ts"
import { StorySets } from "../redis/Stories.ts"
import { Bus } from "../streams/Bus.ts"
import { Taps } from "../streams/Taps.ts"

export interface ViewRequest {
  readonly storyId: string
  readonly viewerId: string
  readonly authorId: string
  readonly seq: number
  readonly expiresAt: Date
}

interface Pending extends ViewRequest {
  readonly at: Date
  readonly done: Deferred.Deferred<void, ServiceUnavailable>
}

export class StoryViews extends Context.Tag("StoryViews")<StoryViews, {
  /** Records a view the caller checked the viewer may make; succeeds once it cannot be lost. */
  readonly record: (view: ViewRequest) => Effect.Effect<void, ServiceUnavailable>
}>() {}

const encoder = new TextEncoder()

export const make = Effect.gen(function*() {
  const { viewBatchMillis, viewBatchSize } = (yield* AppConfig).stories
  const sets = yield* StorySets
  const bus = yield* Bus
  const taps = yield* Effect.serviceOption(Taps)
  const queue = yield* Effect.acquireRelease(Queue.unbounded<Pending>(), Queue.shutdown)
  /** Views on their way, by story and viewer: a repeat joins the one under way. */
  const inFlight = new Map<string, Deferred.Deferred<void, ServiceUnavailable>>()

  const flush = (batch: ReadonlyArray<Pending>) =>
    Effect.gen(function*() {
      // Redis not answering: publish them all (stored once anyway)
      const known = yield* sets.known(batch).pipe(Effect.orElseSucceed(() => batch.map(() => false)))
      const fresh = batch.filter((_, i) => !known[i])
      if (fresh.length > 0) {
        const event = StoryViewed.make({ views: fresh.map((v) => ({ storyId: v.storyId, viewerId: v.viewerId, at: v.at.toISOString() })) })
        const envelope = envelopeOf(event, { id: crypto.randomUUID(), occurredAt: new Date().toISOString() })
        const published = yield* bus.publishRaw(eventSubject(event.type), encoder.encode(JSON.stringify(envelope)), { msgId: envelope.id }).pipe(
          Effect.tapError((e) => Effect.logWarning("story views not published", e)),
          Effect.either
        )
        if (published._tag === "Left") {
          const refused = new ServiceUnavailable({ message: "the view could not be recorded just now; try again" })
          yield* Effect.forEach(fresh, (v) => Deferred.fail(v.done, refused), { discard: true })
          yield* Effect.forEach(batch.filter((_, i) => known[i]), (v) => Deferred.succeed(v.done, undefined), { discard: true })
          return
        }
        if (Option.isSome(taps)) taps.value.publishEvent(envelope)
        yield* sets.remember(fresh).pipe(Effect.catchAll((e) => Effect.logWarning("story view sets not updated", e)))
      }
      yield* sets.advance(batch.map((v) => ({ viewerId: v.viewerId, authorId: v.authorId, seq: v.seq }))).pipe(
        Effect.catchAll((e) => Effect.logWarning("story read pointers not moved in Redis", e))
      )
      yield* Effect.forEach(batch, (v) => Deferred.succeed(v.done, undefined), { discard: true })
    }).pipe(
      // whatever happened, nobody is left waiting
      // (one refusal for the batch, made only when a view is still waiting: after a success none is)
      Effect.onExit(() =>
        Effect.flatMap(Effect.filter(batch, (v) => Effect.map(Deferred.isDone(v.done), (done) => !done)), (waiting) => {
          if (waiting.length === 0) return Effect.void
          const refused = new ServiceUnavailable({ message: "the view could not be recorded just now; try again" })
          return Effect.forEach(waiting, (v) => Deferred.fail(v.done, refused), { discard: true })
        })
      )
    )

  // gather a batch: the first view opens a window of viewBatchMillis (or until the batch is full)
  const gather = Effect.gen(function*() {
    const first = yield* Queue.takeBetween(queue, 1, viewBatchSize)
    const batch = [...first]
    if (batch.length < viewBatchSize) {
      yield* Effect.sleep(Duration.millis(viewBatchMillis))
      batch.push(...(yield* Queue.takeUpTo(queue, viewBatchSize - batch.length)))
    }
    return batch
  })
  // batches go out a few at a time, so one slow PubAck does not hold the next window back
  const gate = yield* Effect.makeSemaphore(4)
  yield* gather.pipe(
    Effect.flatMap((batch) => Effect.fork(gate.withPermits(1)(flush(batch)))),
    Effect.zipRight(gate.withPermits(1)(Effect.void)),
    Effect.forever,
    Effect.forkScoped
  )

  return StoryViews.of({
    record: (view) =>
      Effect.suspend(() => {
        const key = `${view.storyId}:${view.viewerId}`
        const under = inFlight.get(key)
        if (under !== undefined) return Deferred.await(under)
        return Effect.gen(function*() {
          const done = yield* Deferred.make<void, ServiceUnavailable>()
          inFlight.set(key, done)
          yield* Queue.offer(queue, { ...view, at: new Date(), done })
          return yield* Deferred.await(done).pipe(Effect.ensuring(Effect.sync(() => inFlight.delete(key))))
        })
      })
  })
})

export const layer = Layer.scoped(StoryViews, make)
