/**
 * The timeline actor's protocol: what any sender — the fan-out consumer, a feed read asking for a
 * rebuild — may send to `timeline:<userId>`. The behaviour lives in `src/actors/timeline/`;
 * senders need only this and the runtime's `Actors` port.
 */
import { Schema } from "effect"

const Uuid = Schema.UUID

export const TimelineCommand = Schema.Union(
  Schema.TaggedStruct("Rebuild", { force: Schema.Boolean }),
  Schema.TaggedStruct("Backfill", { authorId: Uuid }),
  Schema.TaggedStruct("Purge", { authorId: Uuid }),
  Schema.TaggedStruct("Remove", { postIds: Schema.Array(Uuid) })
)
export type TimelineCommand = typeof TimelineCommand.Type

/** One post for many timelines of one partition: the unit of fan-out. */
export const TimelineBatch = Schema.Union(
  Schema.TaggedStruct("InsertBatch", { userIds: Schema.Array(Uuid), postId: Uuid, score: Schema.Number }),
  Schema.TaggedStruct("RemoveBatch", { userIds: Schema.Array(Uuid), postId: Uuid })
)
export type TimelineBatch = typeof TimelineBatch.Type

export const TimelineQuery = Schema.TaggedStruct("Status", {})

/** The kind as senders address it (an `ActorKind` of the runtime, by shape). */
export const TimelineProtocol = { name: "timeline", command: TimelineCommand, batch: TimelineBatch, query: TimelineQuery } as const
