/** The admin API's shapes: dead letters (messages a consumer gave up on) and their replay. */
import { Schema } from "effect"

export const DeadLetterSource = Schema.Literal("events", "media", "mailbox").annotations({
  description: "What gave up: an EVENTS consumer, the media worker, or an actor mailbox."
})

export const DeadLetterIdPath = Schema.Struct({ id: Schema.String.pipe(Schema.pattern(/^[1-9][0-9]{0,17}$/)) })

export const DeadLetterQuery = Schema.Struct({
  /** The `nextCursor` of the page before. */
  cursor: Schema.optional(Schema.String.pipe(Schema.pattern(/^[1-9][0-9]{0,17}$/))),
  limit: Schema.optionalWith(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 50)), { default: () => 20 }),
  source: Schema.optional(DeadLetterSource),
  consumer: Schema.optional(Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_.-]{1,100}$/)))
})

export class DeadLetterRecord extends Schema.Class<DeadLetterRecord>("DeadLetterRecord")({
  id: Schema.String,
  source: DeadLetterSource,
  consumer: Schema.String,
  /** The subject the message was published to; a replay publishes it there again. */
  subject: Schema.String,
  payload: Schema.Unknown.annotations({
    jsonSchema: { type: "object", description: "The message as it was delivered: an event envelope, a media job." }
  }),
  error: Schema.String,
  deliveries: Schema.Int,
  streamSeq: Schema.NullOr(Schema.Number),
  publishedAt: Schema.NullOr(Schema.String),
  failedAt: Schema.String,
  replayedAt: Schema.NullOr(Schema.String)
}) {}

export class DeadLetterPage extends Schema.Class<DeadLetterPage>("DeadLetterPage")({
  items: Schema.Array(DeadLetterRecord),
  nextCursor: Schema.NullOr(Schema.String),
  hasMore: Schema.Boolean
}) {}
