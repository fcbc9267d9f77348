/**
 * Notifications and the live frames that go with them, from one durable EVENTS consumer:
 *
 * - likes, comments, follows, follow requests and approvals, and @mentions (in captions and
 *   comments) become grouped notifications; undoing the action (unlike, comment deleted,
 *   unfollow) removes its source, a deleted post takes its notifications with it, a block removes
 *   what either side caused the other;
 * - nothing is recorded for your own actions, nor across a block, nor a mention in a post the
 *   mentioned person may not see;
 * - each recorded action is pushed to the recipient's inbox as its own frame (`like`, `comment`,
 *   `follow`, `follow_request`) plus a `notification` frame with the regrouped notification and
 *   the exact unread count (counted, not incremented). Frame message ids derive from the event id,
 *   so an event handled twice publishes nothing twice.
 */
import { Context, Effect, Layer, Option } from "effect"
import { GraphRepo } from "../db/Graph.ts"
import { type NotificationRow, NotificationsRepo } from "../db/Notifications.ts"
import { PostsRepo } from "../db/Posts.ts"
import { UsersRepo } from "../db/Users.ts"
import type { BadRequest } from "../domain/ApiError.ts"
import type { EventOf } from "../domain/DomainEvents.ts"
import { Notification, type NotificationKind, type NotificationPage, NotificationPostRef, UnreadCount } from "../domain/Notifications.ts"
import { MediaUrls } from "../media/MediaUrls.ts"
import { consumeEvents } from "../streams/EventConsumer.ts"
import { Inbox } from "../streams/Inbox.ts"
import { Live } from "../streams/Live.ts"
import type { RoutedTo } from "../streams/EventRoutes.ts"
import { ConsumerNames } from "../streams/Topology.ts"
import { decodeCursor, pageOf } from "./Cursor.ts"
import { extractTags } from "./Posts.ts"
import { cardOf } from "./Views.ts"

export class Notifications extends Context.Tag("Notifications")<Notifications, {
  readonly page: (userId: string, q: { readonly cursor?: string | undefined; readonly limit: number }) => Effect.Effect<NotificationPage, BadRequest>
  readonly markRead: (userId: string, ids: ReadonlyArray<string> | undefined) => Effect.Effect<UnreadCount>
}>() {}

export const make = Effect.gen(function*() {
  const repo = yield* NotificationsRepo
  const users = yield* UsersRepo
  const graph = yield* GraphRepo
  const posts = yield* PostsRepo
  const inbox = yield* Inbox
  const live = yield* Live
  const urls = yield* MediaUrls

  /** A private author's thumbnail only for a recipient who may see the post now, signed for them. */
  const thumbnailOf = (r: NotificationRow) =>
    r.thumbnail === null || !r.postRestricted ? r.thumbnail : r.postFollowed ? urls.sign(r.thumbnail, r.userId) : null

  const render = (rows: ReadonlyArray<NotificationRow>) =>
    Effect.gen(function*() {
      const cards = new Map((yield* repo.cards([...new Set(rows.flatMap((r) => r.actorIds))])).map((c) => [c.id, cardOf(c)]))
      return rows.map((r) =>
        new Notification({
          id: r.id,
          kind: r.kind as NotificationKind,
          actors: r.actorIds.flatMap((id) => {
            const card = cards.get(id)
            return card === undefined ? [] : [card]
          }),
          actorCount: r.actorCount,
          post: r.postId === null ? null : new NotificationPostRef({ id: r.postId, thumbnail: thumbnailOf(r) }),
          text: r.text,
          read: r.read,
          createdAt: r.createdAt.toISOString(),
          updatedAt: r.updatedAt.toISOString()
        })
      )
    })

  const byOf = (userId: string) =>
    Effect.map(users.byId(userId), Option.match({ onNone: () => undefined, onSome: (u) => ({ id: u.id, username: u.username }) }))

  /**
   * Records one action for `recipient` and pushes it: the action's own frame (if any) and the
   * regrouped notification with the unread count. Skips own actions and blocked pairs.
   */
  const notify = (eventId: string, n: {
    readonly recipient: string
    readonly actor: string
    readonly kind: NotificationKind
    readonly groupKey: string
    readonly source: string
    readonly postId: string | null
    readonly text: string | null
    readonly frame?: { readonly type: string; readonly payload: (by: { id: string; username: string }) => unknown }
  }) =>
    Effect.gen(function*() {
      if (n.recipient === n.actor) return
      if (yield* graph.blockedEitherWay(n.recipient, n.actor)) return
      const added = yield* repo.add({
        userId: n.recipient,
        kind: n.kind,
        groupKey: n.groupKey,
        postId: n.postId,
        text: n.text,
        source: n.source,
        actorId: n.actor
      })
      if (Option.isNone(added)) return
      const by = yield* byOf(n.actor)
      if (by === undefined) return
      if (n.frame !== undefined) yield* inbox.publish(n.recipient, n.frame.type, n.frame.payload(by), `${eventId}:${n.recipient}:${n.frame.type}`)
      const row = yield* repo.byId(added.value)
      if (Option.isNone(row)) return
      const [notification] = yield* render([row.value])
      const unreadCount = yield* repo.unreadCount(n.recipient)
      yield* inbox.publish(n.recipient, "notification", { notification, unreadCount }, `${eventId}:${n.recipient}:notification`)
    })

  /** Mentions of people who may see the post (public author, or they follow them), as notifications. */
  const mentions = (eventId: string, m: {
    readonly postId: string
    readonly postAuthorId: string
    readonly actor: string
    readonly usernames: ReadonlyArray<string>
    readonly groupKey: string
    readonly sourcePrefix: string
    readonly text: string
  }) =>
    Effect.gen(function*() {
      const author = yield* users.byId(m.postAuthorId)
      if (Option.isNone(author)) return
      for (const name of m.usernames.slice(0, 20)) {
        const target = yield* users.byUsername(name)
        if (Option.isNone(target)) continue
        const t = target.value
        if (author.value.isPrivate && t.id !== m.postAuthorId && !(yield* graph.relation(t.id, m.postAuthorId)).isFollowing) continue
        yield* notify(eventId, {
          recipient: t.id,
          actor: m.actor,
          kind: "mention",
          groupKey: m.groupKey,
          source: `${m.sourcePrefix}:${t.id}`,
          postId: m.postId,
          text: m.text.slice(0, 200)
        })
      }
    })

  const handle = (e: EventOf<RoutedTo<typeof ConsumerNames.notifications>>, event: { readonly id: string }): Effect.Effect<void, unknown> =>
    Effect.gen(function*() {
      const id = event.id
      switch (e.type) {
        case "post.liked": {
          return yield* notify(id, {
            recipient: e.authorId,
            actor: e.userId,
            kind: "like",
            groupKey: `like:${e.postId}`,
            source: `like:${e.postId}:${e.userId}`,
            postId: e.postId,
            text: null,
            frame: { type: "like", payload: (by) => ({ postId: e.postId, likes: e.likeCount, by }) }
          })
        }
        case "post.unliked": {
          return yield* repo.removeSources({ key: `like:${e.postId}:${e.userId}` })
        }
        case "comment.created": {
          yield* notify(id, {
            recipient: e.postAuthorId,
            actor: e.authorId,
            kind: "comment",
            groupKey: `comment:${e.postId}`,
            source: `comment:${e.commentId}`,
            postId: e.postId,
            text: e.text.slice(0, 200),
            frame: { type: "comment", payload: (by) => ({ postId: e.postId, commentId: e.commentId, text: e.text, by }) }
          })
          const named = extractTags(e.text).mentions
          if (named.length === 0) return
          // a mention in a comment comes from the commenter; the post's author decides who may see it
          return yield* mentions(id, {
            postId: e.postId,
            postAuthorId: e.postAuthorId,
            actor: e.authorId,
            usernames: named,
            groupKey: `mention:comment:${e.commentId}`,
            sourcePrefix: `comment:${e.commentId}:mention`,
            text: e.text
          })
        }
        case "comment.deleted": {
          return yield* repo.removeSources({ prefix: `comment:${e.commentId}` })
        }
        case "user.followed": {
          return yield* notify(id, {
            recipient: e.followeeId,
            actor: e.followerId,
            kind: "follow",
            groupKey: "follow",
            source: `follow:${e.followerId}:${e.followeeId}`,
            postId: null,
            text: null,
            frame: { type: "follow", payload: (by) => ({ by }) }
          })
        }
        case "user.unfollowed": {
          return yield* repo.removeSources({ key: `follow:${e.followerId}:${e.followeeId}` })
        }
        case "follow.requested": {
          return yield* notify(id, {
            recipient: e.targetId,
            actor: e.requesterId,
            kind: "follow_request",
            groupKey: "follow_request",
            source: `request:${e.requesterId}:${e.targetId}`,
            postId: null,
            text: null,
            frame: { type: "follow_request", payload: (by) => ({ requestId: e.requestId, by }) }
          })
        }
        case "follow.approved": {
          yield* repo.removeSources({ key: `request:${e.followerId}:${e.followeeId}` })
          return yield* notify(id, {
            recipient: e.followerId,
            actor: e.followeeId,
            kind: "follow_approved",
            groupKey: `follow_approved:${e.followeeId}`,
            source: `approved:${e.followerId}:${e.followeeId}`,
            postId: null,
            text: null
          })
        }
        case "post.published": {
          const post = yield* posts.byId(e.postId)
          if (Option.isNone(post) || post.value.mentions.length === 0) return
          return yield* mentions(id, {
            postId: e.postId,
            postAuthorId: e.authorId,
            actor: e.authorId,
            usernames: post.value.mentions,
            groupKey: `mention:post:${e.postId}`,
            sourcePrefix: `post:${e.postId}:mention`,
            text: post.value.caption
          })
        }
        case "user.blocked": {
          yield* repo.removeBetween(e.blockerId, e.blockedId)
          // the blocked person's comments on the blocker's posts are hidden from everyone: so are their mentions
          yield* repo.removeHiddenMentions(e.blockerId, e.blockedId)
          yield* live.signal(e.blockerId, { kind: "blocks_changed" })
          yield* live.signal(e.blockedId, { kind: "blocks_changed" })
          return
        }
        default: {
          // a type routed here in EventRoutes.ts without a case above does not compile
          const unhandled: never = e
          return unhandled
        }
      }
    })

  return {
    handle,
    service: Notifications.of({
      page: (userId, q) =>
        Effect.gen(function*() {
          const after = yield* decodeCursor(q.cursor)
          const { rows, unreadCount } = yield* repo.pageWithUnread(userId, after, q.limit + 1)
          const items = yield* render(rows.slice(0, q.limit))
          const page = pageOf(rows, q.limit, (r) => r, (r) => ({ at: r.updatedAt, id: r.id }))
          return { items, nextCursor: page.nextCursor, hasMore: page.hasMore, unreadCount }
        }),
      markRead: (userId, ids) =>
        Effect.gen(function*() {
          yield* repo.markRead(userId, ids)
          const unreadCount = yield* repo.unreadCount(userId)
          // the user's other tabs update their badge
          yield* inbox.publish(userId, "notifications_read", { unreadCount }, crypto.randomUUID()).pipe(
            Effect.catchAll((e) => Effect.logWarning("read marker not pushed", e))
          )
          return new UnreadCount({ unreadCount })
        })
    })
  }
})

export const layer = Layer.effect(Notifications, Effect.map(make, (m) => m.service))

/**
 * The consumer (on `actors` nodes), ordered (EventRoutes.ts): one event at a time across all nodes,
 * in stream order also through redeliveries, so an action and its undoing (like / unlike, comment /
 * delete, follow / unfollow) are applied in the order they were committed.
 */
export const consumerLayer = Layer.scopedDiscard(
  Effect.flatMap(make, ({ handle }) => consumeEvents(ConsumerNames.notifications, handle))
)
