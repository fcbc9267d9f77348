/** Notifications: persisted, grouped ("a and 3 others liked your post"), with an exact unread count. */
import { Schema } from "effect"
import { UserCard } from "./Accounts.ts"

export const NotificationKind = Schema.Literal("like", "comment", "follow", "follow_request", "follow_approved", "mention")
export type NotificationKind = typeof NotificationKind.Type

export class NotificationPostRef extends Schema.Class<NotificationPostRef>("NotificationPostRef")({
  id: Schema.String,
  /** URL of the 150 px variant, null while processing. */
  thumbnail: Schema.NullOr(Schema.String)
}) {}

export class Notification extends Schema.Class<Notification>("Notification")({
  id: Schema.String,
  kind: NotificationKind,
  /** The most recent actors, newest first (at most 3). */
  actors: Schema.Array(UserCard),
  /** How many distinct people the group holds ("a and actorCount - 1 others"). */
  actorCount: Schema.Int,
  post: Schema.NullOr(NotificationPostRef),
  /** The comment text for `comment` and `mention` notifications. */
  text: Schema.NullOr(Schema.String),
  read: Schema.Boolean,
  createdAt: Schema.String,
  updatedAt: Schema.String
}) {}

export const NotificationPage = Schema.Struct({
  items: Schema.Array(Notification),
  nextCursor: Schema.NullOr(Schema.String),
  hasMore: Schema.Boolean,
  unreadCount: Schema.Int
})
export type NotificationPage = typeof NotificationPage.Type

/** Marks the given notifications read, or all of them when `ids` is absent. */
export class MarkRead extends Schema.Class<MarkRead>("MarkRead")({
  ids: Schema.optional(Schema.Array(Schema.UUID).pipe(Schema.maxItems(100)))
}) {}

export class UnreadCount extends Schema.Class<UnreadCount>("UnreadCount")({
  unreadCount: Schema.Int
}) {}
