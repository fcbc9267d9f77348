/**
 * What a node holding a user's sockets needs from the rest of the system: the user's inbox — read
 * in stream order from any sequence, and followed live through JetStream's republish of each
 * stored frame — the ephemeral signals for their sockets (a session ended, blocks changed), the
 * people between whom and the user there is a block, and presence (who may be sent `feed_new`).
 * The WebSocket gateway (`http/ws`) owns the sockets, their cursors and their hygiene; this owns
 * where frames and facts come from, so the gateway needs nothing from `db`, `redis` or `streams`.
 */
import { Context, Effect, Layer } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import type { FrameTrace } from "../observability/Tracing.ts"
import { ConversationsRepo } from "../db/Conversations.ts"
import { EngagementRepo, type PostCounts } from "../db/Engagement.ts"
import { GraphRepo } from "../db/Graph.ts"
import { UsersRepo } from "../db/Users.ts"
import { Redis } from "../redis/Redis.ts"
import { SessionsRepo } from "../db/Sessions.ts"
import { slotKey, SocketSlots, RENEW_MS } from "../redis/SocketSlots.ts"
import { PRESENCE_REFRESH_MS, type RedisUnavailable, Timelines } from "../redis/Timelines.ts"
import { Inbox, withId } from "../streams/Inbox.ts"
import { Live, type LiveSignal } from "../streams/Live.ts"
import type { NatsError } from "../streams/Nats.ts"

/** A frame stored in a user's inbox: its stream sequence and the stored `{type, ts, payload}` JSON. */
export interface InboxFrame {
  readonly seq: number
  readonly json: string
  /** With tracing on: the trace the frame was published in, for the span of its socket delivery. */
  readonly trace?: FrameTrace | undefined
}

/** A frame as it was republished after being stored, with the sequence of the user's previous frame (0 for none). */
export interface LiveFrame extends InboxFrame {
  readonly previous: number
}

export type SocketSignal = LiveSignal

/** A socket as the caps count it. */
export interface CappedSocket {
  readonly id: string
  readonly userId: string
  readonly address: string
}

export interface DeliveryShape {
  /**
   * Follows a user while this node holds sockets for them: `onFrame` for each frame republished
   * (best effort: one may be lost or arrive out of order, so a gap is read with `next`), `onSignal`
   * for their sockets' signals. The callbacks run on the NATS client's; the result stops both.
   */
  readonly follow: (
    userId: string,
    on: { readonly frame: (frame: LiveFrame) => void; readonly signal: (signal: SocketSignal) => void }
  ) => Effect.Effect<() => void>
  /** The first stored frame of the user's inbox after `afterSeq`, if any. */
  readonly next: (userId: string, afterSeq: number) => Effect.Effect<InboxFrame | null, NatsError>
  /** The sequence of the user's latest stored frame (0 when none). */
  readonly lastSeq: (userId: string) => Effect.Effect<number, NatsError>
  /** Whether frame `seq` is still stored and belongs to this user's inbox. */
  readonly holds: (userId: string, seq: number) => Effect.Effect<boolean, NatsError>
  /** Everyone the user blocked or was blocked by: frames they caused are not delivered. */
  readonly blocked: (userId: string) => Effect.Effect<ReadonlySet<string>>
  /** Whether there is a block between the two now (the set above is a copy; this is the record). */
  readonly blockedBetween: (userId: string, otherId: string) => Effect.Effect<boolean>
  /** Which of these sessions (socket session keys) still stand; a socket whose session is gone is closed. */
  readonly liveSessions: (sessionKeys: ReadonlyArray<string>) => Effect.Effect<ReadonlySet<string>>
  /**
   * Takes the socket's places under WS_MAX_SOCKETS_PER_USER / _PER_ADDRESS, counted across the
   * cluster: the cap it would pass, if any. While Redis does not answer, sockets are let in (caps
   * protect the service; they must not lock people out).
   */
  readonly admitSocket: (socket: CappedSocket) => Effect.Effect<"user" | "address" | undefined>
  readonly releaseSocket: (socket: CappedSocket) => Effect.Effect<void>
  /** Keeps the places of this node's open sockets; every `socketPlacesRenewMillis`. */
  readonly renewSockets: (sockets: ReadonlyArray<CappedSocket>) => Effect.Effect<void>
  readonly socketPlacesRenewMillis: number
  /** Marks users as online now; refresh every `presenceRefreshMillis` while their sockets stay. */
  readonly touchPresence: (userIds: ReadonlyArray<string>) => Effect.Effect<void, RedisUnavailable>
  readonly presenceRefreshMillis: number
  /**
   * `userId` is typing in a thread: the other members' sockets, on every node, are told over core
   * NATS (never stored) — at most once per member per thread every TYPING_EVERY_MS, counted across
   * the cluster. `not-member` when they are not (or no longer) one.
   */
  readonly typing: (userId: string, conversationId: string) => Effect.Effect<"sent" | "throttled" | "not-member">
  /** The counts of those posts the viewer may see; the others are left out (a watch never reveals a post). */
  readonly watchable: (viewerId: string, postIds: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<PostCounts>>
  /** The counts now, of the published ones among `postIds`. */
  readonly counts: (postIds: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<PostCounts>>
  /** Rings after each committed like, unlike or comment on the post, from any node; returns the unsubscribe. */
  readonly onPostChanged: (postId: string, onChange: () => void) => () => void
}

/** A member's typing signal goes out at most this often per thread; a receiver shows it for TYPING_SHOWN_MS. */
export const TYPING_EVERY_MS = 2000
export const TYPING_SHOWN_MS = 5000

export class Delivery extends Context.Tag("Delivery")<Delivery, DeliveryShape>() {}

/** `{"type":…}` → `{"id":seq,"type":…}`: the frame a socket is sent, without re-encoding the stored one. */
export const frameText = (frame: InboxFrame): string => withId(frame)

export const make = Effect.gen(function*() {
  const inbox = yield* Inbox
  const live = yield* Live
  const graph = yield* GraphRepo
  const sessions = yield* SessionsRepo
  const slots = yield* SocketSlots
  const { maxPerAddress, maxPerUser } = (yield* AppConfig).sockets
  const placesOf = (s: CappedSocket) => [
    ...(maxPerUser > 0 ? [{ kind: "user" as const, key: slotKey("user", s.userId), cap: maxPerUser }] : []),
    ...(maxPerAddress > 0 ? [{ kind: "address" as const, key: slotKey("addr", s.address), cap: maxPerAddress }] : [])
  ]
  const unavailable = (what: string) => (e: unknown) => Effect.logWarning(`socket caps: ${what} failed`, e)
  const timelines = yield* Timelines
  const conversations = yield* ConversationsRepo
  const users = yield* UsersRepo
  const redis = yield* Redis
  const engagement = yield* EngagementRepo

  return Delivery.of({
    watchable: engagement.countsVisibleTo,
    counts: engagement.counts,
    onPostChanged: (postId, onChange) => {
      const subscription = live.onPostChanged(postId, onChange)
      return () => subscription.unsubscribe()
    },
    follow: (userId, on) =>
      Effect.sync(() => {
        const subscriptions = [
          live.listen(inbox.republished(userId), (msg) => {
            const frame = inbox.parseRepublished(msg)
            if (frame !== null) on.frame(frame)
          }),
          live.subscribe(userId, on.signal)
        ]
        return () => {
          for (const s of subscriptions) s.unsubscribe()
        }
      }),
    next: inbox.next,
    lastSeq: inbox.lastSeq,
    holds: inbox.holds,
    blocked: (userId) => Effect.map(graph.blockedIds(userId), (ids) => new Set(ids)),
    blockedBetween: graph.blockedEitherWay,
    liveSessions: (keys) => Effect.map(sessions.live(keys.map((k) => Buffer.from(k, "hex"))), (live) => new Set(live)),
    admitSocket: (socket) => {
      const places = placesOf(socket)
      if (places.length === 0) return Effect.succeed(undefined)
      return slots.take(socket.id, places).pipe(
        Effect.map((full) => (full === 0 ? undefined : places[full - 1]!.kind)),
        Effect.catchAll((e) => Effect.as(unavailable("taking a place")(e), undefined))
      )
    },
    releaseSocket: (socket) =>
      slots.release(socket.id, placesOf(socket).map((p) => p.key)).pipe(Effect.catchAll(unavailable("giving a place up"))),
    renewSockets: (sockets) =>
      maxPerUser === 0 && maxPerAddress === 0
        ? Effect.void
        : slots.renew(sockets.map((s) => ({ id: s.id, keys: placesOf(s).map((p) => p.key) }))).pipe(Effect.catchAll(unavailable("renewing places"))),
    socketPlacesRenewMillis: RENEW_MS,
    touchPresence: timelines.touchPresence,
    presenceRefreshMillis: PRESENCE_REFRESH_MS,
    typing: (userId, conversationId) =>
      Effect.gen(function*() {
        const members = yield* conversations.activeMemberIds(conversationId)
        if (!members.includes(userId)) return "not-member" as const
        // Redis down: let it through (typing is a courtesy; the client already sends at most every 2 s)
        const first = yield* redis.call("typing gate", (c) => c.set(`typing:${conversationId}:${userId}`, "1", "PX", TYPING_EVERY_MS, "NX")).pipe(
          Effect.map((r) => r === "OK"),
          Effect.orElseSucceed(() => true)
        )
        if (!first) return "throttled" as const
        const me = yield* users.byId(userId)
        const username = me._tag === "Some" ? me.value.username : ""
        yield* Effect.forEach(members, (m) => (m === userId ? Effect.void : live.signal(m, { kind: "typing", conversationId, by: userId, username })), {
          discard: true
        })
        return "sent" as const
      }).pipe(Effect.catchAllDefect(() => Effect.succeed("throttled" as const)))
  })
})

export const layer = Layer.effect(Delivery, make)
