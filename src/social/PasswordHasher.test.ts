import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Hasher from "./PasswordHasher.ts"

const cheap = { logN: 10, r: 8, p: 1 }

describe("PasswordHasher", () => {
  it.effect("a hash verifies its password and no other", () =>
    Effect.gen(function*() {
      const hasher = yield* Hasher.make(cheap)
      const stored = yield* hasher.hash("correct horse battery staple")
      assert.isTrue(yield* hasher.verify("correct horse battery staple", stored))
      assert.isFalse(yield* hasher.verify("correct horse battery stapler", stored))
      assert.isFalse(yield* hasher.verify("", stored))
    }))

  it.effect("the same password hashes differently every time (random salt)", () =>
    Effect.gen(function*() {
      const hasher = yield* Hasher.make(cheap)
      const [a, b] = yield* Effect.all([hasher.hash("same"), hasher.hash("same")])
      assert.notStrictEqual(a, b)
      assert.notStrictEqual(a.split("$")[4], b.split("$")[4])
      assert.isTrue(yield* hasher.verify("same", a))
      assert.isTrue(yield* hasher.verify("same", b))
    }))

  it.effect("unicode passwords verify whichever normalization form they arrive in", () =>
    Effect.gen(function*() {
      const hasher = yield* Hasher.make(cheap)
      const stored = yield* hasher.hash("caf\u00e9-p\u00e4ss")
      assert.isTrue(yield* hasher.verify("cafe\u0301-pa\u0308ss", stored))
    }))

  it.effect("malformed or tampered stored values verify false instead of failing", () =>
    Effect.gen(function*() {
      const hasher = yield* Hasher.make(cheap)
      const stored = yield* hasher.hash("pw")
      const [, , r, p, salt, hash] = stored.split("$")
      const bad = [
        "",
        "not a hash",
        "$2b$10$abcdefghijklmnopqrstuv",
        stored.replace("scrypt$", "argon2$"),
        `scrypt$30$${r}$${p}$${salt}$${hash}`, // would need 2^30 · 1 KiB of memory
        `scrypt$10$${r}$${p}$${salt}`,
        `scrypt$10$${r}$${p}$${salt}$`,
        `scrypt$10$${r}$${p}$${salt}$${hash}$extra`,
        `scrypt$10$${r}$${p}$${salt}$***`,
        `scrypt$ten$${r}$${p}$${salt}$${hash}`,
        `scrypt$10$${r}$${p}$c2FsdA$${hash}` // salt too short
      ]
      for (const s of bad) assert.isFalse(yield* hasher.verify("pw", s), s)
      assert.isTrue(yield* hasher.verify("pw", stored))
    }))

  it.effect("hashes made with other parameters still verify, and ask to be rehashed", () =>
    Effect.gen(function*() {
      const old = yield* Hasher.make({ logN: 9, r: 8, p: 1 })
      const current = yield* Hasher.make(cheap)
      const oldHash = yield* old.hash("pw")
      const newHash = yield* current.hash("pw")
      assert.isTrue(yield* current.verify("pw", oldHash))
      assert.isTrue(current.needsRehash(oldHash))
      assert.isFalse(current.needsRehash(newHash))
      assert.isTrue(current.needsRehash("garbage"))
    }))

  it.effect("verifyDummy answers false for any password", () =>
    Effect.gen(function*() {
      const hasher = yield* Hasher.make(cheap)
      assert.isFalse(yield* hasher.verifyDummy("anything"))
      assert.isFalse(yield* hasher.verifyDummy(""))
    }))

  it.effect("parameters out of bounds are refused at construction", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Hasher.make({ logN: 20, r: 8, p: 1 }))
      assert.strictEqual(exit._tag, "Failure")
    }))

  it.live("the default is OWASP's N=2^15, r=8, p=3; the work runs off the event loop", () =>
    Effect.gen(function*() {
      const hasher = yield* Effect.provide(Hasher.PasswordHasher, Hasher.layer)
      let ticks = 0
      const timer = setInterval(() => ticks++, 5)
      const started = performance.now()
      const [a, b] = yield* Effect.all([hasher.hash("pw-one"), hasher.hash("pw-two")], { concurrency: 2 }).pipe(
        Effect.ensuring(Effect.sync(() => clearInterval(timer)))
      )
      const elapsed = performance.now() - started
      assert.isTrue(a.startsWith("scrypt$15$8$3$"), a)
      assert.isTrue(elapsed > 20, `hashing took ${elapsed} ms`)
      // a blocked loop would have fired no tick at all until both hashes were done
      assert.isTrue(ticks >= 2, `${ticks} ticks in ${elapsed} ms`)
      assert.isTrue(yield* hasher.verify("pw-two", b))
      assert.isFalse(hasher.needsRehash(a))
    }))

  it.live("an unknown user costs about what a wrong password costs", () =>
    Effect.gen(function*() {
      const hasher = yield* Hasher.make(Hasher.owaspParams)
      const stored = yield* hasher.hash("right")
      // the faster of two runs each, so that one stall on a busy machine does not decide
      const time = (effect: Effect.Effect<boolean>) =>
        Effect.gen(function*() {
          const runs: Array<number> = []
          for (let i = 0; i < 2; i++) {
            const started = performance.now()
            yield* effect
            runs.push(performance.now() - started)
          }
          return Math.min(...runs)
        })
      const wrong = yield* time(hasher.verify("wrong", stored))
      const unknown = yield* time(hasher.verifyDummy("wrong"))
      assert.isTrue(unknown > wrong / 3 && unknown < wrong * 3, `verify ${wrong} ms, verifyDummy ${unknown} ms`)
    }))
})
