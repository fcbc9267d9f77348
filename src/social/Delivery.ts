/**
 * What a node holding a user's sockets needs from the rest of the system: the user's inbox — read
 * in stream order from any sequence, and followed live through JetStream's republish of each
 * stored frame — the ephemeral signals for their sockets (a session ended, blocks changed), the
 * people between whom and the user there is a block, and presence (who may be sent `feed_new`).
 * The WebSocket gateway (`http/ws`) owns the sockets, their cursors and their hygiene; this owns
 * where frames and facts come from, so the gateway needs nothing from `db`, `redis` or `streams`.
 */
import { Context, Effect, Layer } from "effect"
import { GraphRepo } from "../db/Graph.ts"
import { SessionsRepo } from "../db/Sessions.ts"
import { PRESENCE_REFRESH_MS, type RedisUnavailable, Timelines } from "../redis/Timelines.ts"
import { Inbox, withId } from "../streams/Inbox.ts"
import { Live, type LiveSignal } from "../streams/Live.ts"
import type { NatsError } from "../streams/Nats.ts"

/** A frame stored in a user's inbox: its stream sequence and the stored `{type, ts, payload}` JSON. */
export interface InboxFrame {
  readonly seq: number
  readonly json: string
}

/** A frame as it was republished after being stored, with the sequence of the user's previous frame (0 for none). */
export interface LiveFrame extends InboxFrame {
  readonly previous: number
}

export type SocketSignal = LiveSignal

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
  /** Marks users as online now; refresh every `presenceRefreshMillis` while their sockets stay. */
  readonly touchPresence: (userIds: ReadonlyArray<string>) => Effect.Effect<void, RedisUnavailable>
  readonly presenceRefreshMillis: number
}

export class Delivery extends Context.Tag("Delivery")<Delivery, DeliveryShape>() {}

/** `{"type":…}` → `{"id":seq,"type":…}`: the frame a socket is sent, without re-encoding the stored one. */
export const frameText = (frame: InboxFrame): string => withId(frame)

export const make = Effect.gen(function*() {
  const inbox = yield* Inbox
  const live = yield* Live
  const graph = yield* GraphRepo
  const sessions = yield* SessionsRepo
  const timelines = yield* Timelines

  return Delivery.of({
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
    touchPresence: timelines.touchPresence,
    presenceRefreshMillis: PRESENCE_REFRESH_MS
  })
})

export const layer = Layer.effect(Delivery, make)
