/**
 * How a feed read asks for a missing timeline: a durable `Rebuild` command to the user's timeline
 * actor through the runtime's `Actors` port, deduplicated for ten seconds by its message id so a
 * burst of reads sends one. The read is answered from PostgreSQL meanwhile and does not wait for
 * the PubAck: the send runs in this layer's scope, which ends with the node.
 */
import { Effect, Layer } from "effect"
import { Actors } from "../actors/runtime/Actors.ts"
import { TimelineProtocol } from "../domain/Timeline.ts"
import { TimelineRebuilds } from "./Feed.ts"

export const layer = Layer.scoped(
  TimelineRebuilds,
  Effect.gen(function*() {
    const actors = yield* Actors
    const scope = yield* Effect.scope
    return TimelineRebuilds.of({
      request: (userId) =>
        actors.send(TimelineProtocol, userId, { _tag: "Rebuild", force: false }, { msgId: `rebuild:${userId}:${Math.floor(Date.now() / 10_000)}` }).pipe(
          Effect.catchAll((e) => Effect.logWarning("timeline rebuild not requested", e)),
          Effect.forkIn(scope),
          Effect.asVoid
        )
    })
  })
)
