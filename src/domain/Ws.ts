/**
 * The WebSocket protocol. Every frame is `{type, id, ts, payload}`: `id` is the inbox stream
 * sequence for events a client can resume from, and null for control frames (hello, pong, error).
 */
import { Schema } from "effect"
import { ObserveFilter } from "./Inspector.ts"

export const ServerFrame = Schema.Struct({
  type: Schema.String,
  id: Schema.NullOr(Schema.Number),
  ts: Schema.String,
  payload: Schema.Unknown
})
export type ServerFrame = typeof ServerFrame.Type

export const Hello = Schema.Struct({ userId: Schema.String, inboxSeq: Schema.Number, connectionId: Schema.String })

export const ClientPing = Schema.Struct({ type: Schema.Literal("ping"), payload: Schema.optional(Schema.Unknown) })
export const ClientResume = Schema.Struct({
  type: Schema.Literal("resume"),
  payload: Schema.Struct({ sinceSeq: Schema.NonNegativeInt })
})
export const ClientTyping = Schema.Struct({
  type: Schema.Literal("typing"),
  payload: Schema.Struct({ conversationId: Schema.UUID })
})
/** Admins only: start (or change) the live tail of actor and event traffic on this socket. */
export const ClientObserve = Schema.Struct({
  type: Schema.Literal("observe"),
  payload: ObserveFilter
})
/** Stops this socket's live tail. */
export const ClientUnobserve = Schema.Struct({
  type: Schema.Literal("unobserve"),
  payload: Schema.optional(Schema.Unknown)
})
/** The most posts one socket may watch at once (the cards on screen and near it). */
export const MAX_WATCHED_POSTS = 50
/**
 * Replaces the posts this socket watches: their like and comment counts come as `post_counts`
 * frames whenever they move, from anyone. Posts the reader may not see are left out of `watching`.
 */
export const ClientWatch = Schema.Struct({
  type: Schema.Literal("watch"),
  payload: Schema.Struct({ postIds: Schema.Array(Schema.UUID).pipe(Schema.maxItems(MAX_WATCHED_POSTS)) })
})
export const ClientFrame = Schema.Union(ClientPing, ClientResume, ClientTyping, ClientObserve, ClientUnobserve, ClientWatch)
export type ClientFrame = typeof ClientFrame.Type

/**
 * Close codes the gateway uses. 4401 and 4429 are in the range for applications (4000–4999),
 * named after the HTTP statuses they mirror: a client reconnects after 1001/1013, signs in again
 * after 4401, and closes another tab (or waits) after 4429.
 */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  policyViolation: 1008,
  tooBig: 1009,
  tryAgainLater: 1013,
  /** The session that opened the socket ended: logged out, expired or revoked. */
  sessionEnded: 4401,
  /** The user or the address already holds as many sockets as WS_MAX_SOCKETS_PER_USER / _PER_ADDRESS allow. */
  tooManySockets: 4429
} as const

/**
 * Payloads of the inbox frames, by `type`. Every one arrives as `{type, id, ts, payload}` with `id`
 * the inbox sequence; a client remembers the last `id` it saw and sends it back in `resume`.
 */
export interface InboxPayloads {
  /** A private author's `variants` are signed for them and expire like every signed media URL. */
  readonly post_ready: { readonly postId: string; readonly status: "published"; readonly variants: Record<string, string> }
  readonly post_failed: { readonly postId: string; readonly status: "failed"; readonly reason: string }
  /** New posts reached the home feed (coalesced: at most one frame per second). */
  readonly feed_new: { readonly count: number; readonly newestPostId: string }
  readonly like: { readonly postId: string; readonly likes: number; readonly by: { readonly id: string; readonly username: string } }
  readonly comment: { readonly postId: string; readonly commentId: string; readonly text: string; readonly by: { readonly id: string; readonly username: string } }
  readonly follow: { readonly by: { readonly id: string; readonly username: string } }
  readonly follow_request: { readonly by: { readonly id: string; readonly username: string } }
  /** A new or regrouped notification and the exact unread count after it. */
  readonly notification: { readonly notification: unknown; readonly unreadCount: number }
}

/** Control frames (no inbox sequence): `hello`, `pong`, `error`, and `resumed` after a replay. */
export interface ControlPayloads {
  readonly hello: { readonly userId: string; readonly inboxSeq: number; readonly connectionId: string }
  /** `complete: false` means events after `sinceSeq` were no longer retained: refetch, then go on live. */
  readonly resumed: { readonly sinceSeq: number; readonly lastSeq: number; readonly replayed: number; readonly complete: boolean }
  readonly error: { readonly code: string; readonly message: string }
  /** The answer to `watch`: the posts now watched, with their counts as they stand. */
  readonly watching: { readonly posts: ReadonlyArray<PostCountsPayload> }
  /** A watched post's counts moved (someone liked, unliked, commented or deleted a comment). */
  readonly post_counts: PostCountsPayload
}

export interface PostCountsPayload {
  readonly postId: string
  readonly likes: number
  readonly comments: number
}
