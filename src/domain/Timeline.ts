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

const UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
const UUID_LIST = new RegExp(`^(?:${UUID}(?:,${UUID})*)?$`)
const isStringArray = (u: unknown): u is ReadonlyArray<string> => Array.isArray(u) && u.every((x) => typeof x === "string")

/**
 * User ids on the wire as one comma-separated string, checked by one regular expression: a
 * fan-out batch carries ~80 of them, and a schema per element cost the node more than Redis
 * spends inserting them. Decoding also takes the JSON array of earlier versions.
 */
export const UuidList = Schema.Union(
  Schema.transform(
    Schema.String.pipe(Schema.pattern(UUID_LIST, { message: () => "a comma-separated list of UUIDs" })),
    Schema.declare(isStringArray, { identifier: "UserIds" }),
    { strict: true, decode: (s) => (s === "" ? [] : s.split(",")), encode: (ids) => ids.join(",") }
  ),
  Schema.Array(Uuid)
)

const PostFor = Schema.Struct({ postId: Uuid, score: Schema.Number, userIds: UuidList })

/**
 * Fan-out to many timelines of one partition: one post (`InsertBatch`, `RemoveBatch`), or several
 * posts that were waiting for the same partition at once (`InsertPosts`, see FanOut.ts).
 */
export const TimelineBatch = Schema.Union(
  Schema.TaggedStruct("InsertBatch", { userIds: UuidList, postId: Uuid, score: Schema.Number }),
  Schema.TaggedStruct("InsertPosts", { posts: Schema.Array(PostFor) }),
  Schema.TaggedStruct("RemoveBatch", { userIds: UuidList, postId: Uuid })
)
export type TimelineBatch = typeof TimelineBatch.Type

export const TimelineQuery = Schema.TaggedStruct("Status", {})

/** The kind as senders address it (an `ActorKind` of the runtime, by shape). */
export const TimelineProtocol = { name: "timeline", command: TimelineCommand, batch: TimelineBatch, query: TimelineQuery } as const
