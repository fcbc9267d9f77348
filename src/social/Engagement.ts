/**
 * Likes, saves and comments. Every action first checks that the viewer may see the post (the same
 * rule as `GET /posts/:id`: published, not across a block, a private author's only for approved
 * followers), so engagement never reveals a post. Like and save are idempotent — a double-submit
 * answers the same and writes one event. Each change commits with its outbox event.
 */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Option } from "effect"
import { type CommentRow, EngagementRepo } from "../db/Engagement.ts"
import { OutboxRepo } from "../db/Outbox.ts"
import { type BadRequest, NotFound, type RateLimited } from "../domain/ApiError.ts"
import { CommentCreated, CommentDeleted, PostLiked, PostSaved, PostUnliked, PostUnsaved } from "../domain/DomainEvents.ts"
import { Comment, type CommentPage, LikeState, SaveState } from "../domain/Engagement.ts"
import { decodeCursor, pageOf } from "./Cursor.ts"
import { type Limited, limited, Limits } from "./Limits.ts"
import { Live } from "../streams/Live.ts"
import { Posts } from "./Posts.ts"
import { cardOf } from "./Views.ts"

export const commentOf = (row: CommentRow) =>
  new Comment({ id: row.commentId, postId: row.postId, text: row.text, author: cardOf(row), createdAt: row.createdAt.toISOString() })

export class Engagement extends Context.Tag("Engagement")<Engagement, {
  readonly like: (postId: string, viewerId: string) => Effect.Effect<Limited<LikeState>, NotFound | RateLimited>
  readonly unlike: (postId: string, viewerId: string) => Effect.Effect<Limited<LikeState>, NotFound | RateLimited>
  readonly save: (postId: string, viewerId: string) => Effect.Effect<Limited<SaveState>, NotFound | RateLimited>
  readonly unsave: (postId: string, viewerId: string) => Effect.Effect<Limited<SaveState>, NotFound | RateLimited>
  readonly comment: (postId: string, viewerId: string, text: string) => Effect.Effect<Limited<Comment>, NotFound | RateLimited>
  readonly comments: (postId: string, viewerId: string | null, q: { readonly cursor?: string | undefined; readonly limit: number }) => Effect.Effect<CommentPage, NotFound | BadRequest>
  readonly deleteComment: (commentId: string, viewerId: string) => Effect.Effect<Limited<void>, NotFound | RateLimited>
}>() {}

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const repo = yield* EngagementRepo
  const outbox = yield* OutboxRepo
  const posts = yield* Posts
  const limits = yield* Limits
  const live = yield* Live
  /** Sockets watching the post learn its counts moved (after the commit, best effort). */
  const rang = (postId: string, changed: boolean) => (changed ? live.postChanged(postId) : Effect.void)

  /** The post as the viewer may see it, after spending one unit of the viewer's write budget. */
  const visible = (postId: string, viewerId: string) =>
    Effect.gen(function*() {
      const rateLimit = yield* limits.enforce(limits.rules.write, viewerId)
      return { post: yield* posts.get(postId, viewerId), rateLimit }
    })

  const inTransaction = <A, E>(effect: Effect.Effect<A, E>) => sql.withTransaction(effect).pipe(Effect.catchTag("SqlError", Effect.die))

  return Engagement.of({
    like: (postId, viewerId) =>
      Effect.gen(function*() {
        const { post, rateLimit } = yield* visible(postId, viewerId)
        const change = yield* inTransaction(Effect.gen(function*() {
          const c = yield* repo.like(postId, viewerId)
          if (c.changed) yield* outbox.append(PostLiked.make({ postId, userId: viewerId, authorId: post.author.id, likeCount: c.likeCount }))
          return c
        }))
        yield* rang(postId, change.changed)
        return limited<LikeState>(rateLimit)(new LikeState({ liked: true, likes: change.likeCount }))
      }),
    unlike: (postId, viewerId) =>
      Effect.gen(function*() {
        const { post, rateLimit } = yield* visible(postId, viewerId)
        const change = yield* inTransaction(Effect.gen(function*() {
          const c = yield* repo.unlike(postId, viewerId)
          if (c.changed) yield* outbox.append(PostUnliked.make({ postId, userId: viewerId, authorId: post.author.id, likeCount: c.likeCount }))
          return c
        }))
        yield* rang(postId, change.changed)
        return limited<LikeState>(rateLimit)(new LikeState({ liked: false, likes: change.likeCount }))
      }),
    save: (postId, viewerId) =>
      Effect.gen(function*() {
        const { rateLimit } = yield* visible(postId, viewerId)
        yield* inTransaction(Effect.gen(function*() {
          if (yield* repo.save(postId, viewerId)) yield* outbox.append(PostSaved.make({ postId, userId: viewerId }))
        }))
        return limited<SaveState>(rateLimit)(new SaveState({ saved: true }))
      }),
    unsave: (postId, viewerId) =>
      Effect.gen(function*() {
        const { rateLimit } = yield* visible(postId, viewerId)
        yield* inTransaction(Effect.gen(function*() {
          if (yield* repo.unsave(postId, viewerId)) yield* outbox.append(PostUnsaved.make({ postId, userId: viewerId }))
        }))
        return limited<SaveState>(rateLimit)(new SaveState({ saved: false }))
      }),
    comment: (postId, viewerId, text) =>
      Effect.gen(function*() {
        const { post, rateLimit } = yield* visible(postId, viewerId)
        const row = yield* inTransaction(Effect.gen(function*() {
          const r = yield* repo.insertComment({ id: crypto.randomUUID(), postId, authorId: viewerId, text })
          yield* outbox.append(CommentCreated.make({
            commentId: r.commentId,
            postId,
            authorId: viewerId,
            postAuthorId: post.author.id,
            text
          }))
          return r
        }))
        yield* rang(postId, true)
        return limited<Comment>(rateLimit)(commentOf(row))
      }),
    comments: (postId, viewerId, q) =>
      Effect.gen(function*() {
        yield* posts.get(postId, viewerId)
        const after = yield* decodeCursor(q.cursor)
        const rows = yield* repo.comments(postId, viewerId, after, q.limit + 1)
        return pageOf(rows, q.limit, commentOf, (r) => ({ at: r.createdAt, id: r.commentId }))
      }),
    deleteComment: (commentId, viewerId) =>
      Effect.gen(function*() {
        const rateLimit = yield* limits.enforce(limits.rules.write, viewerId)
        const deleted = yield* inTransaction(Effect.gen(function*() {
          const d = yield* repo.deleteComment(commentId, viewerId)
          if (Option.isSome(d)) yield* outbox.append(CommentDeleted.make({
              commentId: d.value.id,
              postId: d.value.postId,
              authorId: d.value.authorId,
              postAuthorId: d.value.postAuthorId,
              deletedBy: viewerId
            }))
          return d
        }))
        // someone else's comment on someone else's post answers like a missing one
        if (Option.isNone(deleted)) return yield* new NotFound({ message: "no such comment" })
        yield* rang(deleted.value.postId, true)
        return limited<void>(rateLimit)(undefined)
      })
  })
})

export const layer = Layer.effect(Engagement, make)
