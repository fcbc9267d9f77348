/**
 * How a feed read asks for a missing timeline: a durable `Rebuild` command to the user's timeline
 * actor, deduplicated for ten seconds by its message id so a burst of reads sends one.
 */
import { Effect, Layer } from "effect"
import { TimelineRebuilds } from "../../social/Feed.ts"
import { Actors } from "../runtime/Actors.ts"
import { TimelineKind } from "./Timeline.ts"

export const layer = Layer.effect(
  TimelineRebuilds,
  Effect.map(Actors, (actors) =>
    TimelineRebuilds.of({
      request: (userId) =>
        actors.send(TimelineKind, userId, { _tag: "Rebuild", force: false }, { msgId: `rebuild:${userId}:${Math.floor(Date.now() / 10_000)}` }).pipe(
          Effect.catchAll((e) => Effect.logWarning("timeline rebuild not requested", e)),
          // the read is answered from PostgreSQL meanwhile; it does not wait for the PubAck
          Effect.forkDaemon,
          Effect.asVoid
        )
    })
  )
)
