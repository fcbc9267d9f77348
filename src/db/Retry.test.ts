import { SqlError } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { retryAborted } from "./Retry.ts"

const failing = (codes: Array<string>) => {
  let calls = 0
  const effect = Effect.suspend(() => {
    const code = codes[calls++]
    return code === undefined
      ? Effect.succeed(calls)
      : Effect.fail(new SqlError.SqlError({ cause: Object.assign(new Error("x"), { code }), message: "Failed to execute statement" }))
  })
  return { effect, calls: () => calls }
}

describe("retryAborted", () => {
  it.live("runs a deadlock or serialization loser again until it commits", () =>
    Effect.gen(function*() {
      const t = failing(["40P01", "40001", "40P01"])
      assert.strictEqual(yield* retryAborted(t.effect), 4)
    }))
  it.live("recognises a loser that a repository turned into a defect", () =>
    Effect.gen(function*() {
      const t = failing(["40P01", "40P01"])
      assert.strictEqual(yield* retryAborted(Effect.orDie(t.effect)), 3)
    }))
  it.effect("leaves every other failure alone", () =>
    Effect.gen(function*() {
      const t = failing(["23505"])
      const r = yield* Effect.either(retryAborted(t.effect))
      assert.isTrue(Either.isLeft(r))
      assert.strictEqual(t.calls(), 1)
    }))
})
