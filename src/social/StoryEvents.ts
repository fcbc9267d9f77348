/**
 * The `stories` EVENTS consumer (on `actors` nodes, unordered; EventRoutes.ts):
 *
 * - `story.viewed`: a batch of views into PostgreSQL — each stored once whatever the repeats, the
 *   story's count raised by exactly the rows inserted, read pointers moved forward — then the
 *   authors told (`story_view`);
 * - `story.published` / `story.deleted`: `story_new` / `story_removed` to the author's followers
 *   who may see the story (or could, before it was deleted), did not mute the author and have a
 *   socket open now; the others read their tray when they come back.
 *
 * `story_view` frames are coalesced: at most one a second per author across the cluster (a Redis
 * gate), each saying how many new viewers each story had since the last one, its count, and the
 * newest viewers. Gathered views wait in this process for the gate; if it dies meanwhile, that one
 * frame is lost — the views are not (they are stored before anyone is told).
 */
import { Duration, Effect, Layer } from "effect"
import { userCardOf } from "../domain/Accounts.ts"
import type { EventOf } from "../domain/DomainEvents.ts"
import { StoriesRepo, type ViewsRecorded } from "../db/Stories.ts"
import { UsersRepo } from "../db/Users.ts"
import { StorySets } from "../redis/Stories.ts"
import { consumeEvents } from "../streams/EventConsumer.ts"
import { Inbox } from "../streams/Inbox.ts"
import { ConsumerNames } from "../streams/Topology.ts"

const PAGE = 1000
const SHOWN_VIEWERS = 3

interface Gathered {
  readonly stories: Map<string, { viewCount: number; newViewers: number }>
  newViewers: number
  /** Newest last. */
  viewerIds: Array<string>
}

export const make = Effect.gen(function*() {
  const repo = yield* StoriesRepo
  const users = yield* UsersRepo
  const sets = yield* StorySets
  const inbox = yield* Inbox
  const scope = yield* Effect.scope
  const gathered = new Map<string, Gathered>()

  /** Sends the author's gathered views once their gate opens (one fiber per author with views waiting). */
  const announce = (authorId: string): Effect.Effect<void> =>
    Effect.gen(function*() {
      while (true) {
        const wait = yield* sets.viewGate(authorId).pipe(Effect.orElseSucceed(() => 0))
        if (wait === 0) break
        yield* Effect.sleep(Duration.millis(wait))
      }
      const g = gathered.get(authorId)
      gathered.delete(authorId)
      if (g === undefined) return
      const latest = g.viewerIds.slice(-SHOWN_VIEWERS).reverse()
      const people = new Map((yield* repo.people(latest)).map((p) => [p.id, p]))
      const payload = {
        stories: [...g.stories].map(([storyId, s]) => ({ storyId, viewCount: s.viewCount, newViewers: s.newViewers })),
        newViewers: g.newViewers,
        viewers: latest.flatMap((id) => {
          const p = people.get(id)
          return p === undefined ? [] : [userCardOf(p)]
        })
      }
      yield* inbox.publish(authorId, "story_view", payload, crypto.randomUUID())
    }).pipe(Effect.catchAllCause((cause) => Effect.logWarning("story_view not announced", cause)))

  const gather = (r: ViewsRecorded) => {
    let g = gathered.get(r.authorId)
    const first = g === undefined
    if (g === undefined) {
      g = { stories: new Map(), newViewers: 0, viewerIds: [] }
      gathered.set(r.authorId, g)
    }
    const s = g.stories.get(r.storyId) ?? { viewCount: 0, newViewers: 0 }
    s.newViewers += r.added
    s.viewCount = Math.max(s.viewCount, r.viewCount)
    g.stories.set(r.storyId, s)
    g.newViewers += r.added
    g.viewerIds = [...g.viewerIds, ...r.viewerIds].slice(-SHOWN_VIEWERS)
    return first
  }

  /** Every follower the story is for (by `deleted`: was for), online, told with one frame each. */
  const tell = (storyId: string, deleted: boolean, frame: (userId: string) => Effect.Effect<unknown, unknown>) =>
    Effect.gen(function*() {
      let after: string | null = null
      while (true) {
        const page: ReadonlyArray<string> = yield* repo.audienceOf(storyId, after, PAGE, { deleted })
        if (page.length === 0) return
        const online = yield* sets.present(page).pipe(Effect.orElseSucceed(() => page))
        yield* Effect.forEach(online, frame, { concurrency: 32, discard: true })
        if (page.length < PAGE) return
        after = page[page.length - 1]!
      }
    })

  const handle = (event: EventOf<"story.viewed" | "story.published" | "story.deleted">) =>
    Effect.gen(function*() {
      switch (event.type) {
        case "story.viewed": {
          const recorded = yield* repo.recordViews(event.views.map((v) => ({ storyId: v.storyId, viewerId: v.viewerId, at: new Date(v.at) })))
          for (const r of recorded) {
            if (r.added > 0 && gather(r)) yield* Effect.forkIn(announce(r.authorId), scope)
          }
          return
        }
        case "story.published": {
          const author = yield* users.byId(event.authorId)
          if (author._tag === "None") return
          const payload = {
            storyId: event.storyId,
            author: userCardOf(author.value),
            seq: event.seq,
            publishedAt: event.publishedAt,
            expiresAt: event.expiresAt,
            closeFriends: event.audience === "closeFriends"
          }
          return yield* tell(event.storyId, false, (userId) => inbox.publish(userId, "story_new", payload, `story_new:${event.storyId}:${userId}`))
        }
        case "story.deleted": {
          const payload = { storyId: event.storyId, authorId: event.authorId }
          yield* inbox.publish(event.authorId, "story_removed", payload, `story_removed:${event.storyId}:${event.authorId}`)
          return yield* tell(event.storyId, true, (userId) => inbox.publish(userId, "story_removed", payload, `story_removed:${event.storyId}:${userId}`))
        }
      }
    })

  return { handle }
})

export const consumerLayer = Layer.scopedDiscard(
  Effect.flatMap(make, ({ handle }) => consumeEvents(ConsumerNames.stories, handle))
)
