/**
 * Every domain event, one Schema per `(type, version)`, and their union `DomainEvent`. Producers
 * hand a `DomainEvent` to `OutboxRepo.append` (nothing else compiles); consumers get one back from
 * `decodeEvent`. Which consumer reads which type is the table in `streams/EventRoutes.ts`.
 *
 * On the wire (Events.ts) an event is an envelope `{id, type, version, occurredAt, payload}`:
 * `type` and `version` are envelope fields, the rest of the event is the payload — the same
 * payload JSON consumers read before events were typed. An envelope without `version` (written
 * before there were versions) is version 1.
 *
 * The version rule: a change an existing consumer could not read the old way — a field removed,
 * retyped or renamed, or a new required field that older messages lack — is a new version of the
 * type: a new member here with the next `version`, consumers handling both, producers moving to the
 * new one. The old member stays while its messages can still be in the stream or a dead letter
 * (EVENTS keeps 7 days). A new optional field is not a new version.
 */
import { Either, Schema, SchemaAST } from "effect"
import { EventEnvelope } from "./Events.ts"

const event = <const T extends string, const V extends number, F extends Schema.Struct.Fields>(type: T, version: V, fields: F) =>
  Schema.Struct({ type: Schema.tag(type), version: Schema.tag(version), ...fields }).annotations({ identifier: `${type}@${version}` })

const Id = Schema.UUID

/** The media worker rendered a post's variants; the post is visible from now on. */
export const PostPublished = event("post.published", 1, {
  postId: Id,
  authorId: Id,
  variants: Schema.Record({ key: Schema.String, value: Schema.String })
})
/** The media worker gave up on a post's image; the post is `failed`. */
export const PostFailed = event("post.failed", 1, { postId: Id, authorId: Id, reason: Schema.String })
/** The author deleted a post. */
export const PostDeleted = event("post.deleted", 1, { postId: Id, authorId: Id })

/** `userId` liked `authorId`'s post; `likeCount` is the count after it. */
export const PostLiked = event("post.liked", 1, { postId: Id, userId: Id, authorId: Id, likeCount: Schema.Int })
export const PostUnliked = event("post.unliked", 1, { postId: Id, userId: Id, authorId: Id, likeCount: Schema.Int })
export const PostSaved = event("post.saved", 1, { postId: Id, userId: Id })
export const PostUnsaved = event("post.unsaved", 1, { postId: Id, userId: Id })

/** `authorId` commented on `postAuthorId`'s post. */
export const CommentCreated = event("comment.created", 1, {
  commentId: Id,
  postId: Id,
  authorId: Id,
  postAuthorId: Id,
  text: Schema.String
})
/** A comment was deleted by `deletedBy`: its author or the post's author. */
export const CommentDeleted = event("comment.deleted", 1, {
  commentId: Id,
  postId: Id,
  authorId: Id,
  postAuthorId: Id,
  deletedBy: Id
})

/** `requesterId` asked to follow the private account `targetId`. */
export const FollowRequested = event("follow.requested", 1, { requestId: Id, requesterId: Id, targetId: Id })
/**
 * Version 1 of `follow.approved`: an approval by hand carried the request id, one by going public
 * did not. Still decoded for messages written before version 2; nothing produces it any more.
 */
export const FollowApprovedV1 = event("follow.approved", 1, {
  followerId: Id,
  followeeId: Id,
  requestId: Schema.optional(Id)
})
/** `followeeId` let `followerId` in: by approving `requestId`, or by making the account public. */
export const FollowApproved = event("follow.approved", 2, { followerId: Id, followeeId: Id, requestId: Id })

/** A follow edge now exists (a public account followed, or a request approved). */
export const UserFollowed = event("user.followed", 1, { followerId: Id, followeeId: Id })
export const UserUnfollowed = event("user.unfollowed", 1, { followerId: Id, followeeId: Id })
/** A block, which also removed any follows and requests between the two. */
export const UserBlocked = event("user.blocked", 1, { blockerId: Id, blockedId: Id })

/** The media worker rendered a story; it is visible until `expiresAt`. */
export const StoryPublished = event("story.published", 1, {
  storyId: Id,
  authorId: Id,
  seq: Schema.Int,
  audience: Schema.Literal("followers", "closeFriends"),
  publishedAt: Schema.String,
  expiresAt: Schema.String
})
/** The author deleted a story. */
export const StoryDeleted = event("story.deleted", 1, { storyId: Id, authorId: Id })
/**
 * Views of stories, a batch of them as one node gathered them (views are many: one event each would
 * be most of the stream). A view repeated here or in another batch is stored once.
 */
export const StoryViewed = event("story.viewed", 1, {
  views: Schema.Array(Schema.Struct({ storyId: Id, viewerId: Id, at: Schema.String }))
})

const members = [
  PostPublished,
  PostFailed,
  PostDeleted,
  PostLiked,
  PostUnliked,
  PostSaved,
  PostUnsaved,
  CommentCreated,
  CommentDeleted,
  FollowRequested,
  FollowApprovedV1,
  FollowApproved,
  UserFollowed,
  UserUnfollowed,
  UserBlocked,
  StoryPublished,
  StoryDeleted,
  StoryViewed
] as const

export const DomainEvent = Schema.Union(...members)
export type DomainEvent = typeof DomainEvent.Type
export type EventType = DomainEvent["type"]
/** The events of some types: `EventOf<"user.followed" | "user.unfollowed">`. */
export type EventOf<T extends EventType> = Extract<DomainEvent, { readonly type: T }>

const literalOf = (member: (typeof members)[number], field: "type" | "version") => {
  const type = SchemaAST.getPropertySignatures(member.ast).find((p) => p.name === field)?.type
  if (type === undefined || !SchemaAST.isLiteral(type)) throw new Error(`${field} of an event is not a literal`)
  return type.literal
}

/** Every `(type, version)` of the union, in declaration order. */
export const eventVersions: ReadonlyArray<{ readonly type: EventType; readonly version: number }> = members.map((m) => ({
  type: literalOf(m, "type") as EventType,
  version: literalOf(m, "version") as number
}))
/** Every event type, once each. */
export const eventTypes: ReadonlyArray<EventType> = [...new Set(eventVersions.map((v) => v.type))]

const byVersion = new Map(
  members.map((m) => [`${literalOf(m, "type")}@${literalOf(m, "version")}`, Schema.decodeUnknownEither(m as Schema.Schema<DomainEvent, unknown>, { errors: "first" })])
)

/** Whether `(type, version)` from the wire is a member of the union. */
export const isKnownEvent = (type: string, version: number): boolean => byVersion.has(`${type}@${version}`)

const encodeEvent = Schema.encodeSync(DomainEvent)
/** The envelope of `event`: its type and version beside the payload. */
export const envelopeOf = (event: DomainEvent, meta: { readonly id: string; readonly occurredAt: string }): EventEnvelope => {
  const { type, version, ...payload } = encodeEvent(event)
  return new EventEnvelope({ id: meta.id, type, version, occurredAt: meta.occurredAt, payload })
}

/** The typed event inside an envelope; Left when its `(type, version)` is unknown or its payload does not match. */
export const decodeEvent = (envelope: EventEnvelope): Either.Either<DomainEvent, string> => {
  const name = `${envelope.type}@${envelope.version}`
  const decode = byVersion.get(name)
  if (decode === undefined) return Either.left(`unknown event ${name}`)
  const payload = typeof envelope.payload === "object" && envelope.payload !== null ? envelope.payload : {}
  // the envelope's type and version win over same-named payload fields
  return decode({ ...payload, type: envelope.type, version: envelope.version }).pipe(
    Either.mapLeft((error) => `undecodable event ${name}: ${error.message.split("\n").map((l) => l.trim()).join(" ").slice(0, 400)}`)
  )
}
