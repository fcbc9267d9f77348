/** Media jobs on the MEDIA stream (`media.post`, `media.avatar`) and their dead letters. */
import { Schema } from "effect"

export class MediaJob extends Schema.Class<MediaJob>("MediaJob")({
  kind: Schema.Literal("post", "avatar", "dm", "story"),
  /** The post id, the user id for an avatar, the message media id for a photo message (`dm`), or the story id. */
  id: Schema.UUID,
  /** Blob key of the original. */
  key: Schema.String,
  enqueuedAt: Schema.String
}) {}

export class DeadLetter extends Schema.Class<DeadLetter>("DeadLetter")({
  job: MediaJob,
  reason: Schema.String,
  deliveries: Schema.Int,
  failedAt: Schema.String
}) {}
