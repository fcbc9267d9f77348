import { Effect, Schema } from "effect"
import { TimelineBatch } from "../src/domain/Timeline.ts"
const ids = Array.from({ length: 78 }, () => crypto.randomUUID())
const v = { _tag: "InsertBatch" as const, userIds: ids, postId: ids[0]!, score: 5 }
let t = performance.now(); for (let i = 0; i < 3840; i++) Effect.runSync(Schema.encode(TimelineBatch)(v)); console.log("fresh", (performance.now() - t).toFixed(0))
const e = Schema.encode(TimelineBatch)
t = performance.now(); for (let i = 0; i < 3840; i++) Effect.runSync(e(v)); console.log("cached", (performance.now() - t).toFixed(0))
