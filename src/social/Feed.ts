/**
 * The home feed read. Reads need no ordering with commands, so they go straight to Redis:
 *
 * 1. one round trip (a Lua script): the viewer's timeline after the cursor and the outboxes of the
 *    celebrities they follow, merged newest first, with the cached cards of the page — or what is
 *    missing: the celebrity list (filled from PostgreSQL and cached), an outbox (built from
 *    PostgreSQL), or the timeline itself;
 * 2. cards missing from the cache from PostgreSQL in one batch (and cached);
 * 3. one PostgreSQL query for visibility now (published, author still followed — blocks remove
 *    follows), exact counts and the viewer's like/save flags: deleted posts, unfollowed and blocked
 *    authors drop out even before their purge reaches the timeline.
 *
 * Cards are cached as JSON without counts and flags, and the response is spliced from them as
 * text: no card is parsed or re-encoded on a read. The cursor is the last candidate's (score, id):
 * stable while new posts arrive on top, the same on both paths. A timeline that is not complete is
 * rebuilt by its actor (a durable command) while this read is answered from PostgreSQL. With Redis
 * down or not answering within REDIS_COMMAND_TIMEOUT_MS the read comes from PostgreSQL and the page
 * says it is degraded (the route turns that into `X-Aperture-Degraded: redis`). PostgreSQL down is a 503.
 */
import { Context, Effect, Layer, Schema } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { FeedRepo, type FeedPosition, type ViewerState } from "../db/Feed.ts"
import { BadRequest } from "../domain/ApiError.ts"
import { Post } from "../domain/Posts.ts"
import { MediaUrls } from "../media/MediaUrls.ts"
import { type Entry, Timelines } from "../redis/Timelines.ts"
import { postOf } from "./Views.ts"

/** Asks for a timeline rebuild (the timeline actor's durable command). */
export class TimelineRebuilds extends Context.Tag("TimelineRebuilds")<TimelineRebuilds, {
  readonly request: (userId: string) => Effect.Effect<void>
}>() {}

/** A `FeedPage` as JSON text, ready to send, and whether it was read without Redis. */
export interface FeedPageText {
  readonly json: string
  readonly degraded: boolean
}

export class Feed extends Context.Tag("Feed")<Feed, {
  readonly page: (viewerId: string, q: { readonly cursor?: string | undefined; readonly limit: number }) => Effect.Effect<FeedPageText, BadRequest>
}>() {}

export const encodeFeedCursor = (e: Entry) => Buffer.from(`${e.score}:${e.id}`).toString("base64url")

export const decodeFeedCursor = (cursor: string | undefined): Effect.Effect<FeedPosition | null, BadRequest> => {
  if (cursor === undefined || cursor === "") return Effect.succeed(null)
  const m = /^(\d{1,16}):([0-9a-f-]{36})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"))
  return m === null
    ? Effect.fail(new BadRequest({ message: "cursor is not one this server issued" }))
    : Effect.succeed({ score: Number(m[1]), id: m[2]! })
}

const encodePost = Schema.encodeSync(Post)

/** A card as cached: the encoded post without `counts` and `viewer`, which each read splices in. */
export const cardJson = (post: Post) => {
  const { counts: _counts, viewer: _viewer, ...card } = encodePost(post)
  return JSON.stringify(card)
}

/** A post variant's URL inside a card's JSON (avatars do not match: they stay public). */
const VARIANT_URL = /"\/media\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?:-p\d)?-w\d{2,4}\.webp)"/g

/** `{…card}` + counts and flags → the post's JSON (the card is an object literal: drop its `}`). */
const withState = (card: string, s: ViewerState) =>
  `${card.slice(0, -1)},"counts":{"likes":${s.likeCount},"comments":${s.commentCount}},"viewer":{"isLiked":${s.liked},"isSaved":${s.saved}}}`

/** Rounds through Redis before giving up on a page (each fills one missing piece). */
const MAX_FILLS = 3

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const repo = yield* FeedRepo
  const timelines = yield* Timelines
  const rebuilds = yield* TimelineRebuilds
  const threshold = config.celebrityThreshold
  const urls = yield* MediaUrls
  /** Cards are cached for everyone; a restricted post's variant URLs are signed for this viewer on the way out. */
  const signed = (card: string, viewerId: string) =>
    card.replace(VARIANT_URL, (_, key: string) => JSON.stringify(urls.sign(`/media/${key}`, viewerId)))

  /** The page's candidates and cached cards from Redis, or `undefined` while the timeline is incomplete. */
  const fromRedis = (viewerId: string, before: FeedPosition | null, want: number) =>
    Effect.gen(function*() {
      for (let round = 0; round < MAX_FILLS; round++) {
        const read = yield* timelines.readFeed(viewerId, before, want)
        switch (read._tag) {
          case "TimelineMissing":
            return undefined
          case "CelebritiesMissing":
            yield* timelines.cacheCelebrities(viewerId, yield* repo.celebritiesFollowed(viewerId, threshold))
            break
          case "OutboxesMissing":
            // an outbox not built yet (a new celebrity, a flushed Redis): from PostgreSQL, then cached
            yield* Effect.forEach(read.authorIds, (authorId) =>
              Effect.flatMap(repo.authorRecent(authorId, config.feed.authorOutboxCap), (recent) => timelines.outboxFill(authorId, recent)), { discard: true })
            break
          case "Page":
            return { entries: read.entries, cards: read.cards }
        }
      }
      return undefined
    })

  /** Cards for `ids` not found in the cache, from PostgreSQL in one batch (and cached when Redis is up). */
  const fillCards = (ids: ReadonlyArray<string>, cards: Map<string, string>, cache: boolean) =>
    Effect.gen(function*() {
      const missing = ids.filter((id) => !cards.has(id))
      if (missing.length === 0) return
      const fresh = (yield* repo.cards(missing)).map(({ author, post }) => [post.id, cardJson(postOf(post, author))] as const)
      for (const [id, json] of fresh) cards.set(id, json)
      if (cache) yield* Effect.ignore(timelines.putCards(fresh))
    })

  const respond = (viewerId: string, candidates: ReadonlyArray<Entry>, cached: ReadonlyArray<string | null>, limit: number, cache: boolean) =>
    Effect.gen(function*() {
      const page = candidates.slice(0, limit)
      const ids = page.map((e) => e.id)
      const cards = new Map<string, string>()
      cached.forEach((json, i) => {
        if (json !== null && i < ids.length) cards.set(ids[i]!, json)
      })
      const [, states] = yield* Effect.all([fillCards(ids, cards, cache), repo.viewerState(viewerId, ids)], { concurrency: 2 })
      const stateById = new Map<string, ViewerState>(states.map((s) => [s.id, s]))
      const items: Array<string> = []
      for (const id of ids) {
        const card = cards.get(id)
        const state = stateById.get(id)
        if (card === undefined || state === undefined) continue // deleted or no longer visible
        items.push(withState(state.authorPrivate ? signed(card, viewerId) : card, state))
      }
      const last = page[page.length - 1]
      const hasMore = candidates.length > limit
      const nextCursor = hasMore && last !== undefined ? `"${encodeFeedCursor(last)}"` : "null"
      return `{"items":[${items.join(",")}],"nextCursor":${nextCursor},"hasMore":${hasMore}}`
    })

  const fromPostgres = (viewerId: string, before: FeedPosition | null, limit: number, cache: boolean) =>
    Effect.gen(function*() {
      const candidates = yield* repo.feedPage(viewerId, before, limit + 1)
      const ids = candidates.slice(0, limit).map((e) => e.id)
      const cached = cache ? yield* timelines.cards(ids).pipe(Effect.orElseSucceed(() => [])) : []
      return yield* respond(viewerId, candidates, cached, limit, cache)
    })

  return Feed.of({
    page: (viewerId, q) =>
      Effect.gen(function*() {
        const before = yield* decodeFeedCursor(q.cursor)
        const read = yield* fromRedis(viewerId, before, q.limit + 1).pipe(Effect.either)
        if (read._tag === "Left") {
          yield* Effect.logWarning("feed served from PostgreSQL: Redis unavailable", read.left.message)
          return { json: yield* fromPostgres(viewerId, before, q.limit, false), degraded: true }
        }
        if (read.right === undefined) {
          yield* rebuilds.request(viewerId)
          return { json: yield* fromPostgres(viewerId, before, q.limit, true), degraded: false }
        }
        return { json: yield* respond(viewerId, read.right.entries, read.right.cards, q.limit, true), degraded: false }
      })
  })
})

export const layer = Layer.effect(Feed, make)
