/**
 * The DomainEvent union: every `(type, version)` goes through its envelope and back unchanged, the
 * wire keeps the payload shape consumers read before events were typed, an envelope without a
 * version is version 1, and what is not an event of the union does not decode. The
 * `@ts-expect-error` lines are checked by `tsc`: a producer cannot append a wrong event.
 */
import { assert, describe, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import {
  CommentCreated,
  CommentDeleted,
  decodeEvent,
  DomainEvent,
  envelopeOf,
  eventTypes,
  eventVersions,
  FollowApproved,
  FollowApprovedV1,
  FollowRequested,
  isKnownEvent,
  PostDeleted,
  PostFailed,
  PostLiked,
  PostPublished,
  PostSaved,
  PostUnliked,
  PostUnsaved,
  StoryDeleted,
  StoryPublished,
  StoryViewed,
  UserBlocked,
  UserFollowed,
  UserUnfollowed
} from "./DomainEvents.ts"
import { EventEnvelope } from "./Events.ts"

const id = () => crypto.randomUUID()
const a = id()
const b = id()
const post = id()

/** One of each member of the union. */
const samples: ReadonlyArray<DomainEvent> = [
  PostPublished.make({ postId: post, authorId: a, variants: { small: "/media/p/320.webp" } }),
  PostFailed.make({ postId: post, authorId: a, reason: "not an image" }),
  PostDeleted.make({ postId: post, authorId: a }),
  PostLiked.make({ postId: post, userId: b, authorId: a, likeCount: 3 }),
  PostUnliked.make({ postId: post, userId: b, authorId: a, likeCount: 2 }),
  PostSaved.make({ postId: post, userId: b }),
  PostUnsaved.make({ postId: post, userId: b }),
  CommentCreated.make({ commentId: id(), postId: post, authorId: b, postAuthorId: a, text: "hi @someone" }),
  CommentDeleted.make({ commentId: id(), postId: post, authorId: b, postAuthorId: a, deletedBy: a }),
  FollowRequested.make({ requestId: id(), requesterId: b, targetId: a }),
  FollowApprovedV1.make({ followerId: b, followeeId: a }),
  FollowApproved.make({ followerId: b, followeeId: a, requestId: id() }),
  UserFollowed.make({ followerId: b, followeeId: a }),
  UserUnfollowed.make({ followerId: b, followeeId: a }),
  UserBlocked.make({ blockerId: a, blockedId: b }),
  StoryPublished.make({
    storyId: post,
    authorId: a,
    seq: 7,
    audience: "closeFriends",
    publishedAt: "2026-12-01T10:00:00.000Z",
    expiresAt: "2026-12-02T10:00:00.000Z"
  }),
  StoryDeleted.make({ storyId: post, authorId: a }),
  StoryViewed.make({ views: [{ storyId: post, viewerId: b, at: "2026-12-01T11:00:00.000Z" }] })
]

/** An envelope as it is stored and published: JSON, then decoded the way consumers decode it. */
const overTheWire = (envelope: unknown) => Schema.decodeUnknownSync(Schema.parseJson(EventEnvelope))(JSON.stringify(envelope))

describe("DomainEvent", () => {
  it("has a sample of every (type, version) here", () => {
    assert.deepStrictEqual(samples.map((e) => `${e.type}@${e.version}`), eventVersions.map((v) => `${v.type}@${v.version}`))
    assert.strictEqual(new Set(eventTypes).size, eventTypes.length)
  })

  it("every event round-trips through its envelope and JSON", () => {
    for (const event of samples) {
      const envelope = envelopeOf(event, { id: id(), occurredAt: new Date().toISOString() })
      assert.strictEqual(envelope.type, event.type)
      assert.strictEqual(envelope.version, event.version)
      const { type: _t, version: _v, ...fields } = event
      assert.deepStrictEqual(envelope.payload, fields, "the payload is the event without type and version")
      const decoded = decodeEvent(overTheWire(envelope))
      assert.deepStrictEqual(decoded, Either.right(event), event.type)
    }
  })

  it("an envelope without a version (written before versions) is version 1", () => {
    const old = {
      id: id(),
      type: "user.followed",
      occurredAt: new Date().toISOString(),
      payload: { followerId: b, followeeId: a }
    }
    const envelope = overTheWire(old)
    assert.strictEqual(envelope.version, 1)
    assert.deepStrictEqual(decodeEvent(envelope), Either.right(UserFollowed.make({ followerId: b, followeeId: a })))
    // an approval by going public had no request id before version 2: it still decodes, as version 1
    const approved = decodeEvent(overTheWire({ ...old, type: "follow.approved" }))
    assert.deepStrictEqual(approved, Either.right(FollowApprovedV1.make({ followerId: b, followeeId: a })))
    // a comment.deleted as it was written then, with the comment's row (`id`) spread into it
    const commentId = id()
    const deleted = decodeEvent(overTheWire({
      ...old,
      type: "comment.deleted",
      payload: { id: commentId, postId: post, authorId: b, postAuthorId: a, commentId, deletedBy: a }
    }))
    assert.isTrue(Either.isRight(deleted) && deleted.right.type === "comment.deleted" && deleted.right.commentId === commentId)
  })

  it("an unknown type or version, or a payload that does not match, does not decode", () => {
    const envelope = (type: string, payload: unknown, version?: number) =>
      overTheWire({ id: id(), type, occurredAt: new Date().toISOString(), payload, ...(version === undefined ? {} : { version }) })
    assert.isTrue(Either.isLeft(decodeEvent(envelope("user.waved", { followerId: b }))))
    assert.isTrue(Either.isLeft(decodeEvent(envelope("user.followed", { followerId: b, followeeId: a }, 9))))
    assert.isTrue(Either.isLeft(decodeEvent(envelope("user.followed", { followerId: "someone", followeeId: a }))))
    assert.isTrue(Either.isLeft(decodeEvent(envelope("user.followed", { followerId: b }))))
    assert.isTrue(Either.isLeft(decodeEvent(envelope("post.liked", { postId: post, userId: b, authorId: a, likeCount: 1.5 }))))
    assert.isTrue(Either.isLeft(decodeEvent(envelope("user.followed", null))))
    // the envelope's type and version win over same-named payload fields
    assert.isTrue(Either.isLeft(decodeEvent(envelope("user.waved", { type: "user.followed", followerId: b, followeeId: a }))))
    assert.isTrue(isKnownEvent("follow.approved", 1) && isKnownEvent("follow.approved", 2))
    assert.isFalse(isKnownEvent("follow.approved", 3) || isKnownEvent("user.waved", 1))
  })

  it("a producer cannot build a wrong event (checked by tsc)", () => {
    const append = (event: DomainEvent) => event.type
    // never run (the constructors would throw): only compiled
    const wrong = () => {
      // @ts-expect-error an event type that does not exist
      append({ type: "user.waved", version: 1, followerId: a, followeeId: b })
      // @ts-expect-error a field of another event (a block has blockerId, not followerId)
      append({ type: "user.blocked", version: 1, followerId: a, followeeId: b })
      // @ts-expect-error a missing field
      append({ type: "post.liked", version: 1, postId: post, userId: b, authorId: a })
      // @ts-expect-error a version that does not exist
      append({ type: "user.followed", version: 2, followerId: a, followeeId: b })
      // @ts-expect-error a wrong field type
      append({ type: "post.liked", version: 1, postId: post, userId: b, authorId: a, likeCount: "3" })
      // @ts-expect-error version 2 of follow.approved requires the request id
      append(FollowApproved.make({ followerId: a, followeeId: b }))
      // @ts-expect-error an unknown field on a constructor
      append(UserFollowed.make({ followerId: a, followeeId: b, extra: 1 }))
    }
    assert.isFunction(wrong)
    assert.strictEqual(append(UserFollowed.make({ followerId: a, followeeId: b })), "user.followed")
  })
})
