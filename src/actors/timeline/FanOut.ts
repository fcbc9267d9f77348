/**
 * Hybrid fan-out, on nodes with the `actors` role, from two durable EVENTS consumers:
 *
 * - `timeline-fanout` (`ev.post.*`): a published post of an author below CELEBRITY_THRESHOLD goes
 *   to every follower's timeline — followers paged by keyset and grouped by partition into one
 *   `InsertBatch` per partition and page, not one message per follower; a celebrity's post goes to
 *   their author outbox instead, merged at read time. The author's own timeline always gets it,
 *   and its card is written to the cache on the way. A deleted post is removed the same way.
 *   Follows are approved edges only, so a private author reaches approved followers; blocks remove
 *   follows, so blocked pairs are never reached.
 * - `timeline-graph` (`ev.user.*`): follow → backfill, unfollow/block → purge (both ways for a
 *   block), and the follower's cached celebrity list is dropped.
 *
 * Each event is acknowledged after every batch it produced was acknowledged by JetStream; batch
 * message ids derive from the event id, so an event handled twice sends nothing twice.
 */
import { createHash } from "node:crypto"
import { Deferred, Effect, FiberSet, Layer } from "effect"
import { AppConfig } from "../../config/AppConfig.ts"
import { type FollowerCursor, FeedRepo } from "../../db/Feed.ts"
import { type TraceContext, Tracing } from "../../observability/Tracing.ts"
import type { EventOf } from "../../domain/DomainEvents.ts"
import type { TimelineBatch } from "../../domain/Timeline.ts"
import { Timelines } from "../../redis/Timelines.ts"
import { consumeEvents } from "../../streams/EventConsumer.ts"
import type { NatsError } from "../../streams/Nats.ts"
import { ConsumerNames } from "../../streams/Topology.ts"
import { Actors, type MailboxFull } from "../runtime/Actors.ts"
import { TimelineKind } from "./Timeline.ts"

/** Followers read per page while fanning out. */
export const FOLLOWER_PAGE = 5000

/** At most this many user ids in one coalesced message (~300 KB, well under NATS's 1 MB). */
const MAX_IDS_PER_MESSAGE = 8000

interface Waiting {
  readonly post: { readonly postId: string; readonly score: number; readonly userIds: ReadonlyArray<string> }
  readonly msgId: string
  readonly done: Deferred.Deferred<void, NatsError | MailboxFull>
  /** The fan-out span that queued it (tracing on): its message continues that trace. */
  readonly trace: TraceContext | undefined
}

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const repo = yield* FeedRepo
  const timelines = yield* Timelines
  const tracing = yield* Tracing
  const actors = yield* Actors
  const sending = yield* FiberSet.make()

  /**
   * Inserts bound for one partition while a send to it is in flight wait, and go out together
   * in one `InsertPosts` message when it is acknowledged: no timer, so a lone post goes out at
   * once, and a burst of posts costs each partition a few messages instead of one per post. Each
   * waiting insert learns when its message was acknowledged (its event is acknowledged after
   * all of its inserts were). A lone insert keeps its own message id, so an event handled twice
   * sends it once; a coalesced message's id derives from its inserts', so a redelivered event
   * grouped otherwise may insert again — which changes nothing (an insert is idempotent).
   */
  const lanes = new Map<number, { waiting: Array<Waiting>; busy: boolean }>()
  const pump = (partition: number, lane: { waiting: Array<Waiting>; busy: boolean }): Effect.Effect<void> =>
    Effect.gen(function*() {
      while (lane.waiting.length > 0) {
        let ids = 0
        let n = 0
        while (n < lane.waiting.length && (n === 0 || ids + lane.waiting[n]!.post.userIds.length <= MAX_IDS_PER_MESSAGE)) {
          ids += lane.waiting[n]!.post.userIds.length
          n++
        }
        const group = lane.waiting.splice(0, n)
        const only = group.length === 1 ? group[0]! : undefined
        const batch: TimelineBatch = only !== undefined
          ? { _tag: "InsertBatch", ...only.post }
          : { _tag: "InsertPosts", posts: group.map((w) => w.post) }
        const msgId = only?.msgId ?? `posts:${createHash("sha1").update(group.map((w) => w.msgId).join("|")).digest("base64url")}`
        // the message continues its first post's fan-out trace (not the one of the fiber that runs the lane)
        const exit = yield* Effect.exit(tracing.withParent(actors.sendBatch(TimelineKind, partition, batch, { msgId }), group[0]!.trace))
        for (const w of group) yield* Deferred.done(w.done, exit)
      }
      lane.busy = false
    })
  const insert = (partition: number, post: Waiting["post"], msgId: string) =>
    Effect.gen(function*() {
      const done = yield* Deferred.make<void, NatsError | MailboxFull>()
      let lane = lanes.get(partition)
      if (lane === undefined) {
        lane = { waiting: [], busy: false }
        lanes.set(partition, lane)
      }
      lane.waiting.push({ post, msgId, done, trace: tracing.enabled ? yield* tracing.current : undefined })
      if (!lane.busy) {
        lane.busy = true
        yield* FiberSet.run(sending, pump(partition, lane))
      }
      return yield* Deferred.await(done)
    })

  /** Sends `batchOf(userIds)` for the author and every follower, one message per partition and page. */
  const toFollowers = (eventId: string, authorId: string, batchOf: (userIds: ReadonlyArray<string>) => TimelineBatch) =>
    Effect.gen(function*() {
      let after: FollowerCursor | null = null
      let page = 0
      let first = true
      for (;;) {
        const { ids, last }: { ids: ReadonlyArray<string>; last: FollowerCursor | null } = yield* repo.followers(authorId, after, FOLLOWER_PAGE)
        const byPartition = new Map<number, Array<string>>()
        for (const id of first ? [authorId, ...ids] : ids) {
          const p = actors.partitionOf(id)
          const list = byPartition.get(p)
          if (list === undefined) byPartition.set(p, [id])
          else list.push(id)
        }
        yield* Effect.forEach(
          byPartition,
          ([p, userIds]) => {
            const batch = batchOf(userIds)
            const msgId = `${eventId}:${page}:${p}`
            return batch._tag === "InsertBatch"
              ? insert(p, { postId: batch.postId, score: batch.score, userIds }, msgId)
              : actors.sendBatch(TimelineKind, p, batch, { msgId })
          },
          // at most one message per partition: their PubAcks overlap
          { concurrency: "unbounded", discard: true }
        )
        first = false
        page++
        if (ids.length < FOLLOWER_PAGE || last === null) return
        after = last
      }
    })

  const published = (eventId: string, e: EventOf<"post.published">) =>
    Effect.gen(function*() {
      const score = yield* repo.publishedScore(e.postId)
      // deleted (or no longer published) before we got here: nothing to insert
      if (score === undefined) return
      const author = yield* repo.author(e.authorId)
      if (author === undefined) return
      if (tracing.enabled) {
        yield* tracing.annotate({ "fanout.followers": author.followerCount, "fanout.celebrity": author.followerCount >= config.celebrityThreshold })
      }
      if (author.followerCount >= config.celebrityThreshold) {
        yield* timelines.outboxInsert(e.authorId, { id: e.postId, score }).pipe(Effect.orDie)
        yield* actors.sendBatch(TimelineKind, actors.partitionOf(e.authorId), {
          _tag: "InsertBatch",
          userIds: [e.authorId],
          postId: e.postId,
          score
        }, { msgId: `${eventId}:self` })
        return
      }
      yield* toFollowers(eventId, e.authorId, (userIds) => ({ _tag: "InsertBatch", userIds, postId: e.postId, score }))
    })

  const deleted = (eventId: string, e: EventOf<"post.deleted">) =>
    Effect.gen(function*() {
      yield* Effect.all([timelines.outboxRemove(e.authorId, e.postId), timelines.dropCard(e.postId)], { discard: true }).pipe(Effect.orDie)
      yield* toFollowers(eventId, e.authorId, (userIds) => ({ _tag: "RemoveBatch", userIds, postId: e.postId }))
    })

  const graph = (e: EventOf<"user.followed" | "user.unfollowed" | "user.blocked">, event: { readonly id: string }) =>
    Effect.gen(function*() {
      const send = (userId: string, command: typeof TimelineKind.command.Type, tag: string) =>
        actors.send(TimelineKind, userId, command, { msgId: `${event.id}:${tag}` })
      switch (e.type) {
        case "user.followed": {
          yield* timelines.forgetCelebrities([e.followerId]).pipe(Effect.orDie)
          yield* send(e.followerId, { _tag: "Backfill", authorId: e.followeeId }, "backfill")
          return
        }
        case "user.unfollowed": {
          yield* timelines.forgetCelebrities([e.followerId]).pipe(Effect.orDie)
          yield* send(e.followerId, { _tag: "Purge", authorId: e.followeeId }, "purge")
          return
        }
        case "user.blocked": {
          yield* timelines.forgetCelebrities([e.blockerId, e.blockedId]).pipe(Effect.orDie)
          yield* send(e.blockerId, { _tag: "Purge", authorId: e.blockedId }, "purge-blocker")
          yield* send(e.blockedId, { _tag: "Purge", authorId: e.blockerId }, "purge-blocked")
          return
        }
      }
    })

  const posts = (e: EventOf<"post.published" | "post.deleted">, event: { readonly id: string }) =>
    tracing.span(e.type === "post.published" ? published(event.id, e) : deleted(event.id, e), "fanout", {
      attributes: { "fanout.event": e.type, "post.id": e.postId, "author.id": e.authorId, "messaging.message.id": event.id }
    })

  return { posts, graph }
})

/** Both consumers, for nodes with the `actors` role. */
export const layer = Layer.scopedDiscard(
  Effect.gen(function*() {
    const { graph, posts } = yield* make
    yield* consumeEvents(ConsumerNames.timelineFanout, posts)
    // ordered (EventRoutes.ts): one event at a time across all nodes, in stream order also through
    // redeliveries, so a follow and the unfollow after it reach the follower's timeline in that order
    yield* consumeEvents(ConsumerNames.timelineGraph, graph)
  })
)
