import { assert, describe, it } from "@effect/vitest"
import * as crypto from "node:crypto"
import { isCommonPassword } from "./CommonPasswords.ts"

describe("isCommonPassword", () => {
  it("knows the passwords every list starts with, whatever their case", () => {
    for (const p of ["password", "123456", "qwerty", "Password", "PASSWORD", "iloveyou", "letmein"]) {
      assert.isTrue(isCommonPassword(p), p)
    }
  })

  it("does not flag a long random password", () => {
    assert.isFalse(isCommonPassword(crypto.randomBytes(24).toString("base64url")))
    assert.isFalse(isCommonPassword("violet-harbour-trombone-47"))
  })
})
