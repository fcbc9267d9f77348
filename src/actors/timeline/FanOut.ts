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
import { Effect, Layer } from "effect"
import { AppConfig } from "../../config/AppConfig.ts"
import { FeedRepo } from "../../db/Feed.ts"
import type { Keyset } from "../../db/Graph.ts"
import type { EventOf } from "../../domain/DomainEvents.ts"
import type { TimelineBatch } from "../../domain/Timeline.ts"
import { Timelines } from "../../redis/Timelines.ts"
import { consumeEvents } from "../../streams/EventConsumer.ts"
import { ConsumerNames } from "../../streams/Topology.ts"
import { Actors } from "../runtime/Actors.ts"
import { TimelineKind } from "./Timeline.ts"

/** Followers read per page while fanning out. */
export const FOLLOWER_PAGE = 5000

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const repo = yield* FeedRepo
  const timelines = yield* Timelines
  const actors = yield* Actors

  /** Sends `batchOf(userIds)` for the author and every follower, one message per partition and page. */
  const toFollowers = (eventId: string, authorId: string, batchOf: (userIds: ReadonlyArray<string>) => TimelineBatch) =>
    Effect.gen(function*() {
      let after: Keyset | null = null
      let page = 0
      let first = true
      for (;;) {
        const { ids, last }: { ids: ReadonlyArray<string>; last: Keyset | null } = yield* repo.followers(authorId, after, FOLLOWER_PAGE)
        const byPartition = new Map<number, Array<string>>()
        for (const id of first ? [authorId, ...ids] : ids) {
          const p = actors.partitionOf(id)
          const list = byPartition.get(p)
          if (list === undefined) byPartition.set(p, [id])
          else list.push(id)
        }
        yield* Effect.forEach(
          byPartition,
          ([p, userIds]) => actors.sendBatch(TimelineKind, p, batchOf(userIds), { msgId: `${eventId}:${page}:${p}` }),
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
    e.type === "post.published" ? published(event.id, e) : deleted(event.id, e)

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
