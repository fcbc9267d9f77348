/**
 * The fan-out batch on the wire (src/domain/Timeline.ts): user ids travel as one comma-separated
 * string, the JSON array of earlier versions still decodes, an invalid list is refused either way,
 * the empty list round-trips, and `InsertPosts` (several posts for one partition) round-trips —
 * all through JSON, as a batch crosses NATS.
 */
import { assert, describe, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { TimelineBatch, UuidList } from "../src/domain/Timeline.ts"

const ids = [
  "0b6c4f0e-3f7e-4b8e-9b1a-2f1d7c9e5a01",
  "1c7d5a1f-4a8f-4c9f-8c2b-3a2e8dae6b12",
  "2d8e6b2a-5b9a-4daf-9d3c-4b3f9ebf7c23"
]
const postId = "9f1e2d3c-4b5a-4678-9abc-def012345678"

const encode = Schema.encodeEither(TimelineBatch)
const decode = Schema.decodeUnknownEither(TimelineBatch)
/** Encoded, through JSON text and back, then decoded: what a receiving host sees. */
const overTheWire = (batch: TimelineBatch) => {
  const encoded = encode(batch)
  if (Either.isLeft(encoded)) throw new Error(`does not encode: ${encoded.left.message}`)
  const json = JSON.stringify(encoded.right)
  return { json, wire: JSON.parse(json) as Record<string, unknown>, decoded: decode(JSON.parse(json)) }
}

describe("TimelineBatch on the wire", () => {
  it("InsertBatch: user ids go as one comma-separated string and come back as the same array", () => {
    const batch: TimelineBatch = { _tag: "InsertBatch", userIds: ids, postId, score: 1_733_000_000_123 }
    const { wire, decoded } = overTheWire(batch)
    assert.strictEqual(wire.userIds, ids.join(","))
    assert.deepStrictEqual(Either.getOrThrow(decoded), batch)
  })

  it("RemoveBatch round-trips with the string form too", () => {
    const batch: TimelineBatch = { _tag: "RemoveBatch", userIds: [ids[1]!], postId }
    const { wire, decoded } = overTheWire(batch)
    assert.strictEqual(wire.userIds, ids[1])
    assert.deepStrictEqual(Either.getOrThrow(decoded), batch)
  })

  it("the empty list round-trips (as the empty string)", () => {
    const batch: TimelineBatch = { _tag: "InsertBatch", userIds: [], postId, score: 5 }
    const { wire, decoded } = overTheWire(batch)
    assert.strictEqual(wire.userIds, "")
    assert.deepStrictEqual(Either.getOrThrow(decoded), batch)
    // and the old empty array too
    assert.deepStrictEqual(Either.getOrThrow(decode({ _tag: "RemoveBatch", userIds: [], postId })), { _tag: "RemoveBatch", userIds: [], postId })
  })

  it("decoding still takes the JSON array of earlier versions", () => {
    const old = JSON.parse(JSON.stringify({ _tag: "InsertBatch", userIds: ids, postId, score: 42 }))
    assert.deepStrictEqual(Either.getOrThrow(decode(old)), { _tag: "InsertBatch", userIds: ids, postId, score: 42 })
    assert.deepStrictEqual(Either.getOrThrow(Schema.decodeUnknownEither(UuidList)(ids)), ids)
  })

  it("an invalid id list is refused, in either form", () => {
    const bad: ReadonlyArray<unknown> = [
      `${ids[0]},not-a-uuid`,
      `${ids[0]},`,
      `,${ids[0]}`,
      `${ids[0]},,${ids[1]}`,
      `${ids[0]} ,${ids[1]}`,
      `${ids[0]};${ids[1]}`,
      `${ids[0]}${ids[1]}`,
      ids[0]!.slice(0, 35),
      [ids[0], "not-a-uuid"],
      [ids[0], 7],
      7,
      null
    ]
    for (const userIds of bad) {
      assert.isTrue(Either.isLeft(decode({ _tag: "InsertBatch", userIds, postId, score: 1 })), `accepted ${JSON.stringify(userIds)}`)
      assert.isTrue(Either.isLeft(decode({ _tag: "RemoveBatch", userIds, postId })), `accepted ${JSON.stringify(userIds)}`)
      assert.isTrue(
        Either.isLeft(decode({ _tag: "InsertPosts", posts: [{ postId, score: 1, userIds }] })),
        `accepted ${JSON.stringify(userIds)} in InsertPosts`
      )
    }
    // nor does an invalid id go out
    assert.isTrue(Either.isLeft(encode({ _tag: "InsertBatch", userIds: [ids[0]!, "nope"], postId, score: 1 })))
  })

  it("InsertPosts round-trips: several posts, each with its own users (one with none)", () => {
    const batch: TimelineBatch = {
      _tag: "InsertPosts",
      posts: [
        { postId, score: 1, userIds: ids },
        { postId: ids[0]!, score: 2.5, userIds: [ids[2]!] },
        { postId: ids[1]!, score: 3, userIds: [] }
      ]
    }
    const { wire, decoded } = overTheWire(batch)
    assert.deepStrictEqual((wire.posts as Array<{ userIds: unknown }>).map((p) => p.userIds), [ids.join(","), ids[2], ""])
    assert.deepStrictEqual(Either.getOrThrow(decoded), batch)
    // a post of an InsertPosts in the old array form decodes too
    const mixed = { _tag: "InsertPosts", posts: [{ postId, score: 1, userIds: ids }, { postId, score: 2, userIds: ids.join(",") }] }
    assert.deepStrictEqual(Either.getOrThrow(decode(mixed)), {
      _tag: "InsertPosts",
      posts: [{ postId, score: 1, userIds: ids }, { postId, score: 2, userIds: ids }]
    })
  })
})
