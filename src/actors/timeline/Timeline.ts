/**
 * The timeline actor: one per user, the single writer of `tl:<userId>` for everything but fan-out
 * batches (commutative inserts/removals applied by the partition's owner in one Redis call).
 *
 * Hydration makes sure the timeline is complete in Redis — rebuilt from PostgreSQL when it is
 * missing (a new user, an evicted key, a flushed Redis) — so every command works on a whole
 * timeline. Follow backfills the author's recent posts; unfollow and block purge them.
 */
import { Duration, Effect, FiberSet } from "effect"
import { AppConfig } from "../../config/AppConfig.ts"
import { FeedRepo } from "../../db/Feed.ts"
import { type TimelineBatch, TimelineProtocol } from "../../domain/Timeline.ts"
import { type FeedNewDue, type FenceToken, type RedisUnavailable, Timelines } from "../../redis/Timelines.ts"
import { Metrics } from "../../observability/Metrics.ts"
import { Inbox } from "../../streams/Inbox.ts"
import { behaviour, kind } from "../runtime/Actor.ts"

export const TimelineKind = kind(TimelineProtocol)

interface State {
  readonly userId: string
  readonly rebuilds: number
  readonly backfills: number
  readonly purges: number
}

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const repo = yield* FeedRepo
  const timelines = yield* Timelines
  const inbox = yield* Inbox
  const cap = config.feed.timelineCap
  const threshold = config.celebrityThreshold
  const fanoutLag = (yield* Metrics).histogram(
    "aperture_fanout_lag_seconds",
    "From a post's publication (its published_at, by the database clock) to its fan-out insert written to one " +
      "partition's timelines: one observation per post and partition batch applied, so the last follower " +
      "timeline of a post is written at the largest of its observations",
    [],
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]
  )

  // a held-back feed_new is sent when its user's gate opens, from a fiber of this scope
  const held = yield* FiberSet.make()

  /**
   * `feed_new` to the followers who are online, at most one per second each (best effort: a frame
   * that cannot be sent is logged). A post inside a follower's second is not dropped: its frame
   * goes out when the second ends, with the count of every post it announces.
   */
  const announceDue = (due: Effect.Effect<ReadonlyArray<FeedNewDue>, RedisUnavailable>): Effect.Effect<void> =>
    due.pipe(
      Effect.flatMap((targets) =>
        Effect.forEach(
          targets,
          (t) =>
            t._tag === "Now"
              ? Effect.asVoid(inbox.publish(t.userId, "feed_new", { count: t.count, newestPostId: t.newestPostId }, `feed_new:${t.newestPostId}:${t.userId}`))
              : Effect.asVoid(FiberSet.run(held, Effect.zipRight(Effect.sleep(Duration.millis(t.afterMillis)), announceDue(timelines.feedNewFlush([t.userId]))))),
          { concurrency: 16, discard: true }
        )
      ),
      Effect.catchAll((e) => Effect.logWarning("feed_new not announced", e))
    )

  /** `feed_new` for the followers who got `postId` and are online (most batches: nobody). */
  const announce = (present: ReadonlyArray<string>, postId: string) =>
    present.length === 0 ? Effect.void : announceDue(timelines.feedNewTargets(present, postId))

  const rebuild = (fence: FenceToken, userId: string, replace: boolean) =>
    Effect.flatMap(repo.timelineSeed(userId, threshold, cap), (entries) => timelines.fill(fence, userId, entries, replace))

  /**
   * Batches in order: each run of inserts in one Redis call (of different posts, so their order
   * within the run does not matter), a removal on its own — after the insert it may follow.
   */
  const applyBatches = (batches: ReadonlyArray<TimelineBatch>, fence: FenceToken) =>
    Effect.gen(function*() {
      let inserts: Array<{ readonly postId: string; readonly score: number; readonly userIds: ReadonlyArray<string> }> = []
      const flush = Effect.suspend(() => {
        const run = inserts
        inserts = []
        return run.length === 0 ? Effect.void : Effect.flatMap(
          timelines.insertMany(fence, run.map((x) => ({ entry: { id: x.postId, score: x.score }, userIds: x.userIds }))),
          (present) => {
            // a post's score is its published_at in ms; a clock behind the database's reads as 0
            const now = Date.now()
            for (const x of run) fanoutLag.observe(Math.max(0, now - x.score) / 1000)
            return Effect.forEach(run, (x, k) => announce(present[k] ?? [], x.postId), { discard: true })
          }
        )
      })
      for (const b of batches) {
        if (b._tag === "InsertBatch") inserts.push(b)
        else if (b._tag === "InsertPosts") inserts.push(...b.posts)
        else {
          yield* flush
          yield* timelines.removeMany(fence, b.userIds, b.postId)
        }
      }
      yield* flush
    })

  return behaviour({
    kind: TimelineKind,
    hydrate: (userId, envelope) =>
      Effect.gen(function*() {
        const complete = yield* timelines.isComplete(userId)
        if (!complete) yield* rebuild(envelope, userId, false)
        return { userId, rebuilds: complete ? 0 : 1, backfills: 0, purges: 0 } satisfies State
      }),
    receive: (state: State, command, envelope) =>
      Effect.gen(function*() {
        switch (command._tag) {
          case "Rebuild": {
            if (command.force || !(yield* timelines.isComplete(state.userId))) yield* rebuild(envelope, state.userId, command.force)
            return { ...state, rebuilds: state.rebuilds + 1 }
          }
          case "Backfill": {
            const author = yield* repo.author(command.authorId)
            // a celebrity's posts are merged from their outbox at read time
            if (author !== undefined && author.followerCount < threshold) {
              const recent = yield* repo.authorRecent(command.authorId, 50)
              yield* timelines.fill(envelope, state.userId, recent, false)
            }
            return { ...state, backfills: state.backfills + 1 }
          }
          case "Purge": {
            const theirs = yield* repo.authorRecent(command.authorId, cap)
            yield* timelines.removeFrom(envelope, state.userId, theirs.map((e) => e.id))
            return { ...state, purges: state.purges + 1 }
          }
          case "Remove": {
            yield* timelines.removeFrom(envelope, state.userId, command.postIds)
            return state
          }
        }
      }),
    batch: {
      commutative: true,
      // adding or removing one post id is idempotent and lands at its score whatever ran before,
      // so it may run alongside the users' own commands. Not commutative with one of them: a
      // purge of an author racing the fan-out of that author's post (the follow ended while the
      // fan-out read the followers); the feed read path filters unfollowed authors' posts.
      receive: (batch, envelope) => applyBatches([batch], envelope),
      receiveMany: (batches, envelopes) => applyBatches(batches, envelopes[0]!)
    },
    answer: (state: State) => Effect.map(timelines.isComplete(state.userId), (complete) => ({ ...state, complete })),
    // a read-only question: no need to wake (and rebuild) an actor to answer it
    answerCold: (userId: string) =>
      Effect.map(timelines.isComplete(userId), (complete) => ({ userId, rebuilds: 0, backfills: 0, purges: 0, complete })),
    batchKeys: (batch) => batch._tag === "InsertPosts" ? [...new Set(batch.posts.flatMap((p) => p.userIds))] : batch.userIds,
    describe: (state: State) => state
  })
})
