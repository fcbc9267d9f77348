/**
 * Profiles, the follow graph, blocks and user search, with visibility enforced on every read:
 * a block hides each side from the other (404), a private account shows its lists only to its
 * approved followers, and every change of the graph writes its event through the outbox in the
 * same transaction as the change. A block and an unblock also tell both people's sockets at once
 * (`blocks_changed` over core NATS, to every node), and move the blocked person's comments on the
 * blocker's posts out of (back into) sight and the counts.
 */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Option } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import {
  FollowRequestItem,
  FollowState,
  type FollowRequestPage,
  type Me,
  type Profile,
  type ProfileUpdate,
  type UserCardPage,
  type UserPage
} from "../domain/Accounts.ts"
import { BadRequest, Forbidden, NotFound, RateLimited, Unprocessable } from "../domain/ApiError.ts"
import { FollowApproved, FollowRequested, UserBlocked, UserFollowed, UserUnfollowed } from "../domain/DomainEvents.ts"
import { EngagementRepo } from "../db/Engagement.ts"
import { GraphRepo } from "../db/Graph.ts"
import { OutboxRepo } from "../db/Outbox.ts"
import { type UserRow, UsersRepo } from "../db/Users.ts"
import { Live } from "../streams/Live.ts"
import { decodeCursor, pageOf } from "./Cursor.ts"
import { type Limited, limited, Limits } from "./Limits.ts"
import { MediaAudience } from "./MediaAudience.ts"
import { cardOf, listItemOf, meOf, profileOf } from "./Views.ts"

type PageQuery = { readonly cursor?: string | undefined; readonly limit: number }

export class Social extends Context.Tag("Social")<Social, {
  readonly profile: (username: string, viewerId: string | null) => Effect.Effect<Profile, NotFound>
  readonly updateProfile: (userId: string, patch: ProfileUpdate) => Effect.Effect<Limited<Me>, RateLimited>
  readonly follow: (viewerId: string, username: string) => Effect.Effect<Limited<FollowState>, NotFound | Unprocessable | RateLimited>
  readonly unfollow: (viewerId: string, username: string) => Effect.Effect<Limited<FollowState>, NotFound | RateLimited>
  readonly followers: (username: string, viewerId: string | null, q: PageQuery) => Effect.Effect<UserPage, NotFound | Forbidden | BadRequest>
  readonly following: (username: string, viewerId: string | null, q: PageQuery) => Effect.Effect<UserPage, NotFound | Forbidden | BadRequest>
  readonly requests: (userId: string, q: PageQuery) => Effect.Effect<FollowRequestPage, BadRequest>
  readonly approve: (userId: string, requestId: string) => Effect.Effect<Limited<void>, NotFound | RateLimited>
  readonly deny: (userId: string, requestId: string) => Effect.Effect<Limited<void>, NotFound | RateLimited>
  readonly block: (viewerId: string, username: string) => Effect.Effect<Limited<void>, NotFound | Unprocessable | RateLimited>
  readonly unblock: (viewerId: string, username: string) => Effect.Effect<Limited<void>, NotFound | RateLimited>
  readonly blocks: (userId: string, q: PageQuery) => Effect.Effect<UserCardPage, BadRequest>
  readonly search: (q: string, viewerId: string | null, limit: number) => Effect.Effect<UserPage>
}>() {}

export const make = Effect.gen(function*() {
  const { adminUsernames } = yield* AppConfig
  const sql = yield* SqlClient.SqlClient
  const users = yield* UsersRepo
  const graph = yield* GraphRepo
  const outbox = yield* OutboxRepo
  const limits = yield* Limits
  const audience = yield* MediaAudience
  const engagement = yield* EngagementRepo
  const live = yield* Live
  /** Both sides' sockets, on every node, renew their copy of who is blocked. */
  const blocksChanged = (a: string, b: string) =>
    Effect.zipRight(live.signal(a, { kind: "blocks_changed" }), live.signal(b, { kind: "blocks_changed" }))

  const notFound = (username: string) => new NotFound({ message: `no account @${username}` })
  const write = (userId: string) => limits.enforce(limits.rules.write, userId)

  /** The account, unless it does not exist or a block stands between it and the viewer. */
  const visible = (username: string, viewerId: string | null) =>
    Effect.gen(function*() {
      const user = yield* users.byUsername(username.trim().toLowerCase())
      if (Option.isNone(user)) return yield* notFound(username)
      if (viewerId !== null && viewerId !== user.value.id && (yield* graph.blockedEitherWay(viewerId, user.value.id))) {
        return yield* notFound(username)
      }
      return user.value
    })

  const canViewContent = (user: UserRow, viewerId: string | null) =>
    !user.isPrivate || viewerId === user.id ||
      (viewerId !== null && Effect.map(graph.relation(viewerId, user.id), (r) => r.isFollowing))

  const listOf = (edge: "followers" | "following") => (username: string, viewerId: string | null, q: PageQuery) =>
    Effect.gen(function*() {
      const user = yield* visible(username, viewerId)
      const allowed = canViewContent(user, viewerId)
      if (!(typeof allowed === "boolean" ? allowed : yield* allowed)) {
        return yield* new Forbidden({ message: `@${user.username} is private; follow them to see their ${edge}` })
      }
      const after = yield* decodeCursor(q.cursor)
      const rows = yield* graph[edge](user.id, viewerId, after, q.limit + 1)
      return pageOf(rows, q.limit, listItemOf, (r) => ({ at: r.cursorAt, id: r.id }))
    })

  const self = (viewerId: string, target: UserRow) =>
    viewerId === target.id ? Effect.fail(new Unprocessable({ message: "that is your own account" })) : Effect.void

  return Social.of({
    profile: Effect.fn("Social.profile")(function*(username, viewerId) {
      const user = yield* users.byUsername(username.trim().toLowerCase())
      if (Option.isNone(user)) return yield* notFound(username)
      const self = viewerId === user.value.id
      // one query answers both "is there a block between us" and the viewer's flags
      const relation = viewerId === null || self ? null : yield* graph.relation(viewerId, user.value.id)
      // blocked by them: the account is not there for the viewer. Blocked by the viewer: its header,
      // with viewer.blocked, so the blocker can unblock from the profile (no content either way)
      if (relation?.blockedByTarget) return yield* notFound(username)
      return profileOf(user.value, relation, self)
    }),

    updateProfile: Effect.fn("Social.updateProfile")(function*(userId, patch) {
      const rateLimit = yield* write(userId)
      const me = yield* sql.withTransaction(Effect.gen(function*() {
        const before = yield* users.byId(userId)
        const after = yield* users.update(userId, patch)
        // going public lets everyone waiting in
        if (Option.isSome(before) && before.value.isPrivate && !after.isPrivate) {
          const approved = yield* graph.approveAll(userId)
          for (const { followerId, requestId } of approved) {
            yield* outbox.append(FollowApproved.make({ followerId, followeeId: userId, requestId }))
            yield* outbox.append(UserFollowed.make({ followerId, followeeId: userId }))
          }
          return meOf(Option.getOrElse(yield* users.byId(userId), () => after), adminUsernames)
        }
        return meOf(after, adminUsernames)
      })).pipe(Effect.orDie)
      // after the commit: the plain URLs of posts that just became restricted stop working now
      if (patch.isPrivate !== undefined) yield* audience.changed(userId)
      return limited<Me>(rateLimit)(me)
    }),

    follow: Effect.fn("Social.follow")(function*(viewerId, username) {
      const target = yield* visible(username, viewerId)
      yield* self(viewerId, target)
      const rateLimit = yield* limits.enforce(limits.rules.follow, viewerId)
      return yield* sql.withTransaction(Effect.gen(function*() {
        yield* users.lockPair(viewerId, target.id)
        const relation = yield* graph.relation(viewerId, target.id)
        if (relation.blockedByTarget || relation.blockedByViewer) return yield* notFound(username)
        if (relation.isFollowing) return new FollowState({ status: "following" })
        if (target.isPrivate) {
          const request = yield* graph.request(viewerId, target.id)
          if (request.created) {
            yield* outbox.append(FollowRequested.make({ requestId: request.id, requesterId: viewerId, targetId: target.id }))
          }
          return new FollowState({ status: "requested" })
        }
        if (yield* graph.follow(viewerId, target.id)) {
          yield* outbox.append(UserFollowed.make({ followerId: viewerId, followeeId: target.id }))
        }
        return new FollowState({ status: "following" })
      })).pipe(Effect.catchTag("SqlError", Effect.die), Effect.map(limited(rateLimit)))
    }),

    unfollow: Effect.fn("Social.unfollow")(function*(viewerId, username) {
      const target = yield* visible(username, viewerId)
      const rateLimit = yield* write(viewerId)
      yield* sql.withTransaction(Effect.gen(function*() {
        if (yield* graph.unfollow(viewerId, target.id)) {
          yield* outbox.append(UserUnfollowed.make({ followerId: viewerId, followeeId: target.id }))
        }
        yield* graph.cancelRequest(viewerId, target.id)
      })).pipe(Effect.orDie)
      return limited<FollowState>(rateLimit)(new FollowState({ status: "none" }))
    }),

    followers: listOf("followers"),
    following: listOf("following"),

    requests: Effect.fn("Social.requests")(function*(userId, q) {
      const after = yield* decodeCursor(q.cursor)
      const rows = yield* graph.requests(userId, after, q.limit + 1)
      return pageOf(
        rows,
        q.limit,
        (r) => new FollowRequestItem({ id: r.requestId, user: cardOf(r), createdAt: r.createdAt.toISOString() }),
        (r) => ({ at: r.createdAt, id: r.requestId })
      )
    }),

    approve: Effect.fn("Social.approve")(function*(userId, requestId) {
      const rateLimit = yield* write(userId)
      yield* sql.withTransaction(Effect.gen(function*() {
        const requester = yield* graph.takeRequest(requestId, userId)
        if (Option.isNone(requester)) return yield* new NotFound({ message: "no such follow request" })
        if (yield* graph.follow(requester.value, userId)) {
          yield* outbox.append(FollowApproved.make({ followerId: requester.value, followeeId: userId, requestId }))
          yield* outbox.append(UserFollowed.make({ followerId: requester.value, followeeId: userId }))
        }
      })).pipe(Effect.catchTag("SqlError", Effect.die))
      return limited<void>(rateLimit)(undefined)
    }),

    deny: Effect.fn("Social.deny")(function*(userId, requestId) {
      const rateLimit = yield* write(userId)
      const requester = yield* graph.takeRequest(requestId, userId)
      if (Option.isNone(requester)) return yield* new NotFound({ message: "no such follow request" })
      return limited<void>(rateLimit)(undefined)
    }),

    block: Effect.fn("Social.block")(function*(viewerId, username) {
      // blocking works on an account that already blocked you: you may not see it, but you may refuse it
      const target = yield* users.byUsername(username.trim().toLowerCase())
      if (Option.isNone(target)) return yield* notFound(username)
      yield* self(viewerId, target.value)
      const rateLimit = yield* write(viewerId)
      yield* sql.withTransaction(Effect.gen(function*() {
        yield* users.lockPair(viewerId, target.value.id)
        const { created } = yield* graph.block(viewerId, target.value.id)
        if (created) {
          yield* engagement.hideComments(viewerId, target.value.id)
          yield* outbox.append(UserBlocked.make({ blockerId: viewerId, blockedId: target.value.id }))
        }
      })).pipe(Effect.orDie)
      yield* blocksChanged(viewerId, target.value.id)
      return limited<void>(rateLimit)(undefined)
    }),

    unblock: Effect.fn("Social.unblock")(function*(viewerId, username) {
      const target = yield* users.byUsername(username.trim().toLowerCase())
      if (Option.isNone(target)) return yield* notFound(username)
      const rateLimit = yield* write(viewerId)
      yield* sql.withTransaction(Effect.gen(function*() {
        yield* users.lockPair(viewerId, target.value.id)
        if (yield* graph.unblock(viewerId, target.value.id)) yield* engagement.restoreComments(viewerId, target.value.id)
      })).pipe(Effect.orDie)
      yield* blocksChanged(viewerId, target.value.id)
      return limited<void>(rateLimit)(undefined)
    }),

    blocks: Effect.fn("Social.blocks")(function*(userId, q) {
      const after = yield* decodeCursor(q.cursor)
      const rows = yield* graph.blocked(userId, after, q.limit + 1)
      return pageOf(rows, q.limit, cardOf, (r) => ({ at: r.cursorAt, id: r.id }))
    }),

    search: Effect.fn("Social.search")(function*(q, viewerId, limit) {
      const term = q.trim().toLowerCase().replace(/^@/, "")
      if (term === "") return { items: [], nextCursor: null, hasMore: false }
      const rows = yield* graph.search(term, viewerId, limit + 1)
      return { items: rows.slice(0, limit).map(listItemOf), nextCursor: null, hasMore: rows.length > limit }
    })
  })
})

export const layer = Layer.effect(Social, make)
