/**
 * Ephemeral per-user signals over core NATS `live.<userId>` (never stored): a session ended, the
 * user's blocks changed, typing. Every node holding a socket for the user subscribes while it does.
 *
 * `counts.<postId>` rings (empty, never stored) after a like, unlike or comment on the post has
 * committed; a node with a socket watching the post subscribes while it does and reads the counts
 * from the database, so a ring carries no data that could arrive out of order.
 */
import type { Msg, Subscription } from "@nats-io/transport-node"
import { Context, Effect, Layer, Schema } from "effect"
import { Nats } from "./Nats.ts"

export const LiveSignal = Schema.Union(
  Schema.TaggedStruct("session_ended", { sessionKey: Schema.String }),
  Schema.TaggedStruct("blocks_changed", {}),
  Schema.TaggedStruct("typing", { conversationId: Schema.String, by: Schema.String, username: Schema.String })
)
export type LiveSignal = typeof LiveSignal.Type
type LiveSignalInput = { readonly kind: LiveSignal["_tag"] } & Record<string, unknown>

export interface LiveShape {
  /** Best effort and immediate; a node that misses it still enforces the same rule on its next read. */
  readonly signal: (userId: string, body: LiveSignalInput) => Effect.Effect<void>
  readonly subscribe: (userId: string, onSignal: (signal: LiveSignal) => void) => Subscription
  /** Core subscription to a subject (the user's republished inbox frames). */
  readonly listen: (subject: string, onMessage: (msg: Msg) => void) => Subscription
  /** Best effort, after the change committed: the post's counts moved. */
  readonly postChanged: (postId: string) => Effect.Effect<void>
  readonly onPostChanged: (postId: string, onChange: () => void) => Subscription
}

export class Live extends Context.Tag("Live")<Live, LiveShape>() {}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const decode = Schema.decodeUnknownOption(LiveSignal)

export const make = Effect.map(Nats, (nats) =>
  Live.of({
    signal: (userId, { kind, ...rest }) =>
      Effect.sync(() => nats.connection.publish(nats.subject(`live.${userId}`), encoder.encode(JSON.stringify({ _tag: kind, ...rest })))),
    subscribe: (userId, onSignal) =>
      nats.connection.subscribe(nats.subject(`live.${userId}`), {
        callback: (_err, msg) => {
          try {
            const signal = decode(JSON.parse(decoder.decode(msg.data)))
            if (signal._tag === "Some") onSignal(signal.value)
          } catch {
            // not ours to act on
          }
        }
      }),
    listen: (subject, onMessage) => nats.connection.subscribe(subject, { callback: (_err, msg) => onMessage(msg) }),
    postChanged: (postId) =>
      Effect.sync(() => nats.connection.publish(nats.subject(`counts.${postId}`))).pipe(
        Effect.catchAllDefect((defect) => Effect.logWarning("could not ring a post's counts", defect))
      ),
    onPostChanged: (postId, onChange) => nats.connection.subscribe(nats.subject(`counts.${postId}`), { callback: () => onChange() })
  })
)

export const layer = Layer.effect(Live, make)
