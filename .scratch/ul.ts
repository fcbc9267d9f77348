import { Schema } from "effect"
import { TimelineBatch } from "../src/domain/Timeline.ts"
const ids = Array.from({ length: 78 }, () => crypto.randomUUID())
const enc = Schema.encodeSync(TimelineBatch)({ _tag: "InsertBatch", userIds: ids, postId: ids[0]!, score: 5 })
console.log(JSON.stringify(enc).slice(0, 120))
const dec = Schema.decodeUnknownSync(TimelineBatch)(enc)
console.log(dec.userIds.length, dec.userIds[3] === ids[3])
console.log(Schema.decodeUnknownSync(TimelineBatch)({ _tag: "InsertBatch", userIds: ids, postId: ids[0], score: 5 }).userIds.length)
try { Schema.decodeUnknownSync(TimelineBatch)({ _tag: "InsertBatch", userIds: "x,y", postId: ids[0], score: 5 }) } catch (e) { console.log("bad rejected") }
console.log(Schema.decodeUnknownSync(TimelineBatch)({ _tag: "RemoveBatch", userIds: "", postId: ids[0] }))
let t = performance.now(); for (let i = 0; i < 3840; i++) Schema.decodeUnknownSync(TimelineBatch)(enc); console.log("new decode", (performance.now() - t).toFixed(0), "ms")
const old = { _tag: "InsertBatch", userIds: ids, postId: ids[0], score: 5 }
const S = Schema.Union(Schema.TaggedStruct("InsertBatch", { userIds: Schema.Array(Schema.UUID), postId: Schema.UUID, score: Schema.Number }))
t = performance.now(); for (let i = 0; i < 3840; i++) Schema.decodeUnknownSync(S)(old); console.log("old decode", (performance.now() - t).toFixed(0), "ms")
t = performance.now(); for (let i = 0; i < 3840; i++) Schema.encodeSync(TimelineBatch)(dec); console.log("new encode", (performance.now() - t).toFixed(0), "ms")
