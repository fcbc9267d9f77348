import { assert, describe, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { isStorable, StorableString, unstorableMessage } from "./Text.ts"

describe("storable text", () => {
  it("refuses U+0000 and unpaired surrogates anywhere in the string", () => {
    for (const s of ["\u0000", "a\u0000", "\u0000b", "\uD800", "a\uD83D", "\uDE00b", "\uDE00\uD83D", "x\uD800\uD800\uDC00"]) {
      assert.isFalse(isStorable(s), JSON.stringify(s))
    }
  })

  it("keeps every well-formed string, surrogate pairs (emoji) included", () => {
    for (const s of ["", "plain", "Ann 📷", "\uD83D\uDE00", "é ß 中文 \u0001 \uFFFF", "tab\tnew\nline"]) {
      assert.isTrue(isStorable(s), JSON.stringify(s))
    }
  })

  it("fails decoding with a readable message", () => {
    const r = Schema.decodeUnknownEither(Schema.Struct({ bio: StorableString }))({ bio: "a\u0000" })
    assert.isTrue(Either.isLeft(r))
    assert.include(String(Either.isLeft(r) ? r.left.message : ""), unstorableMessage)
  })
})
