/**
 * The home feed read. Reads need no ordering with commands, so they go straight to Redis:
 *
 * 1. one round trip: the viewer's timeline entries after the cursor, whether the timeline is
 *    complete, and the cached list of celebrities they follow (PostgreSQL fills it on a miss);
 * 2. the celebrities' author outboxes after the same cursor (built from PostgreSQL if missing),
 *    merged with the timeline newest first;
 * 3. post cards from the Redis cache, misses from PostgreSQL in one batch (and cached);
 * 4. one PostgreSQL query for visibility now (published, author still followed — blocks remove
 *    follows), exact counts and the viewer's like/save flags: deleted posts, unfollowed and blocked
 *    authors drop out even before their purge reaches the timeline.
 *
 * The cursor is the last candidate's (score, id): stable while new posts arrive on top, the same
 * on both paths. A timeline that is not complete is rebuilt by its actor (a durable command) while
 * this read is answered from PostgreSQL; with Redis down every read comes from PostgreSQL and the
 * response carries `X-Aperture-Degraded: redis`. PostgreSQL down is a 503.
 */
import { Context, Effect, Layer, Option, Schema } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { type CardSource, FeedRepo, type FeedPosition, type ViewerState } from "../db/Feed.ts"
import { BadRequest } from "../domain/ApiError.ts"
import { DegradedHeader, type FeedPage } from "../domain/Engagement.ts"
import { UserCard } from "../domain/Accounts.ts"
import { Post, PostCounts, PostViewerFlags, Variants } from "../domain/Posts.ts"
import { addResponseHeader } from "../observability/RequestContext.ts"
import { type Entry, Timelines } from "../redis/Timelines.ts"
import { postOf } from "./Views.ts"

/** Asks for a timeline rebuild (the timeline actor's durable command). */
export class TimelineRebuilds extends Context.Tag("TimelineRebuilds")<TimelineRebuilds, {
  readonly request: (userId: string) => Effect.Effect<void>
}>() {}

export class Feed extends Context.Tag("Feed")<Feed, {
  readonly page: (viewerId: string, q: { readonly cursor?: string | undefined; readonly limit: number }) => Effect.Effect<FeedPage, BadRequest>
}>() {}

export const encodeFeedCursor = (e: Entry) => Buffer.from(`${e.score}:${e.id}`).toString("base64url")

export const decodeFeedCursor = (cursor: string | undefined): Effect.Effect<FeedPosition | null, BadRequest> => {
  if (cursor === undefined || cursor === "") return Effect.succeed(null)
  const m = /^(\d{1,16}):([0-9a-f-]{36})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"))
  return m === null
    ? Effect.fail(new BadRequest({ message: "cursor is not one this server issued" }))
    : Effect.succeed({ score: Number(m[1]), id: m[2]! })
}

/** Newest first; on equal scores the greater id first (Redis' REV order, PostgreSQL's `id DESC`). */
const newer = (a: Entry, b: Entry) => (a.score !== b.score ? b.score - a.score : a.id < b.id ? 1 : a.id > b.id ? -1 : 0)

export const mergeNewestFirst = (lists: ReadonlyArray<ReadonlyArray<Entry>>, count: number): Array<Entry> => {
  const seen = new Set<string>()
  const out: Array<Entry> = []
  for (const e of lists.flat().sort(newer)) {
    if (seen.has(e.id)) continue
    seen.add(e.id)
    out.push(e)
    if (out.length === count) break
  }
  return out
}

/** The cached form of a card: the post without counts and viewer flags. */
const CardJson = Schema.parseJson(Post)
const encodeCard = Schema.encodeSync(CardJson)
const decodeCardChecked = Schema.decodeUnknownOption(CardJson)

/**
 * Cards are written to the cache only by `encodeCard` above, so reading one back needs no
 * validation: JSON.parse and the classes built with validation off cost a few microseconds, where
 * a Schema decode of the nested classes cost 50–250 µs per card — most of a feed read's CPU.
 * Anything that does not look like a card (a stale shape) goes through the checked decoder.
 */
const decodeCard = (json: string): Option.Option<Post> => {
  let o: Post
  try {
    o = JSON.parse(json) as Post
  } catch {
    return Option.none()
  }
  if (typeof o !== "object" || o === null || typeof o.id !== "string" || typeof o.author !== "object" || o.author === null ||
    typeof o.counts !== "object" || !Array.isArray(o.hashtags) || !Array.isArray(o.mentions)) {
    return decodeCardChecked(json)
  }
  return Option.some(
    new Post({
      ...o,
      variants: o.variants === null ? null : new Variants(o.variants, true),
      author: new UserCard(o.author, true),
      counts: new PostCounts(o.counts, true),
      viewer: o.viewer === null ? null : new PostViewerFlags(o.viewer, true)
    }, true)
  )
}

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const repo = yield* FeedRepo
  const timelines = yield* Timelines
  const rebuilds = yield* TimelineRebuilds
  const threshold = config.celebrityThreshold

  /** Candidates from Redis, or `undefined` when the timeline is not complete yet. */
  const fromRedis = (viewerId: string, before: FeedPosition | null, want: number) =>
    Effect.gen(function*() {
      const read = yield* timelines.readTimeline(viewerId, before, want)
      if (!read.complete) return undefined
      let celebrities = read.celebrities
      if (celebrities === undefined) {
        celebrities = yield* repo.celebritiesFollowed(viewerId, threshold)
        yield* timelines.cacheCelebrities(viewerId, celebrities)
      }
      const outboxes = yield* timelines.readOutboxes(celebrities, before, want)
      const lists = yield* Effect.forEach(outboxes, (entries, i) => {
        if (entries !== undefined) return Effect.succeed(entries)
        // an outbox not built yet (new celebrity, flushed Redis): from PostgreSQL, then cached
        const authorId = celebrities[i]!
        return repo.authorRecent(authorId, config.feed.authorOutboxCap).pipe(
          Effect.tap((recent) => timelines.outboxFill(authorId, recent)),
          Effect.map((recent) =>
            recent.filter((e) => before === null || e.score < before.score || (e.score === before.score && e.id < before.id))
          )
        )
      })
      return mergeNewestFirst([read.entries, ...lists], want)
    })

  /** Cards for `ids`: the cache first (unless Redis is out), PostgreSQL for the rest. */
  const cardsFor = (ids: ReadonlyArray<string>, useCache: boolean) =>
    Effect.gen(function*() {
      const found = new Map<string, Post>()
      if (useCache) {
        const cached = yield* timelines.cards(ids).pipe(Effect.orElseSucceed(() => ids.map(() => null)))
        cached.forEach((json, i) => {
          if (json === null) return
          const card = decodeCard(json)
          if (Option.isSome(card)) found.set(ids[i]!, card.value)
        })
      }
      const missing = ids.filter((id) => !found.has(id))
      if (missing.length > 0) {
        const rows: ReadonlyArray<CardSource> = yield* repo.cards(missing)
        const fresh = rows.map(({ author, post }) => postOf(post, author))
        for (const p of fresh) found.set(p.id, p)
        if (useCache) yield* Effect.ignore(timelines.putCards(fresh.map((p) => [p.id, encodeCard(p)] as const)))
      }
      return found
    })

  const assemble = (viewerId: string, candidates: ReadonlyArray<Entry>, limit: number, useCache: boolean) =>
    Effect.gen(function*() {
      const page = candidates.slice(0, limit)
      const ids = page.map((e) => e.id)
      const [cards, states] = yield* Effect.all([cardsFor(ids, useCache), repo.viewerState(viewerId, ids)], { concurrency: 2 })
      const stateById = new Map<string, ViewerState>(states.map((s) => [s.id, s]))
      const items: Array<Post> = []
      for (const id of ids) {
        const card = cards.get(id)
        const state = stateById.get(id)
        if (card === undefined || state === undefined) continue // deleted or no longer visible
        items.push(
          new Post({
            ...card,
            // validated already: the card when cached, the numbers and flags by their SQL types
            counts: new PostCounts({ likes: state.likeCount, comments: state.commentCount }, true),
            viewer: new PostViewerFlags({ isLiked: state.liked, isSaved: state.saved }, true)
          }, true)
        )
      }
      const last = page[page.length - 1]
      const hasMore = candidates.length > limit
      return { items, nextCursor: hasMore && last !== undefined ? encodeFeedCursor(last) : null, hasMore }
    })

  const fromPostgres = (viewerId: string, before: FeedPosition | null, limit: number, useCache: boolean) =>
    Effect.flatMap(repo.feedPage(viewerId, before, limit + 1), (candidates) => assemble(viewerId, candidates, limit, useCache))

  return Feed.of({
    page: (viewerId, q) =>
      Effect.gen(function*() {
        const before = yield* decodeFeedCursor(q.cursor)
        const candidates = yield* fromRedis(viewerId, before, q.limit + 1).pipe(Effect.either)
        if (candidates._tag === "Left") {
          yield* addResponseHeader(DegradedHeader, "redis")
          yield* Effect.logWarning("feed served from PostgreSQL: Redis unavailable", candidates.left.message)
          return yield* fromPostgres(viewerId, before, q.limit, false)
        }
        if (candidates.right === undefined) {
          yield* rebuilds.request(viewerId)
          return yield* fromPostgres(viewerId, before, q.limit, true)
        }
        return yield* assemble(viewerId, candidates.right, q.limit, true)
      })
  })
})

export const layer = Layer.effect(Feed, make)

