/**
 * The filesystem store under failure: a destination that cannot be written, a body that fails
 * midway and a write interrupted midway (the client dropped the socket) each end as a failed or
 * interrupted Effect with nothing left on disk — never as an uncaught exception from a stream.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Option, Stream } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { make } from "./FsStore.ts"

const scratchRoot = Effect.acquireRelease(
  Effect.promise(() => fs.mkdtemp(path.join(os.tmpdir(), "aperture-fsstore-"))),
  (dir) => Effect.promise(() => fs.rm(dir, { recursive: true, force: true }))
)

/** Collects what escapes as an uncaught exception while `self` runs (and shortly after). */
const noUncaught = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const seen: Array<unknown> = []
      const record = (e: unknown) => void seen.push(e)
      process.on("uncaughtException", record)
      return { seen, record }
    }),
    ({ seen }) =>
      Effect.gen(function*() {
        const a = yield* self
        yield* Effect.sleep("100 millis")
        assert.deepStrictEqual(seen, [], "nothing escaped as an uncaught exception")
        return a
      }),
    ({ record }) => Effect.sync(() => process.off("uncaughtException", record))
  )

const chunks = (n: number, size = 64 * 1024) =>
  Stream.range(1, n, 1).pipe(Stream.map((i) => new Uint8Array(size).fill(i % 251)))

const options = { contentType: "image/png", maxBytes: 100 * 1024 * 1024 }

describe("FsStore", () => {
  it.scopedLive("stores a streamed body whole, in order", () =>
    Effect.gen(function*() {
      const store = yield* make(yield* scratchRoot)
      const { size } = yield* store.put("whole.png", chunks(40), options)
      assert.strictEqual(size, 40 * 64 * 1024)
      const bytes = Option.getOrThrow(yield* store.readAll("whole.png"))
      assert.strictEqual(bytes.byteLength, size)
      assert.strictEqual(bytes[0], 1)
      assert.strictEqual(bytes[bytes.byteLength - 1], 40)
    }))

  it.scopedLive("a destination that cannot be written fails the Effect with a BlobError", () =>
    noUncaught(Effect.gen(function*() {
      const root = yield* scratchRoot
      const store = yield* make(path.join(root, "media"))
      // the directory disappears under the running store (an unmounted or deleted volume)
      yield* Effect.promise(() => fs.rm(path.join(root, "media"), { recursive: true }))
      const exit = yield* Effect.exit(store.put("gone.png", chunks(3), options).pipe(Effect.timeout("10 seconds")))
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
      assert.strictEqual(Option.getOrThrow(error)._tag, "BlobError")
      assert.match(String((Option.getOrThrow(error) as { cause: { code: string } }).cause.code), /ENOENT/)
    })))

  it.scopedLive.skipIf(process.getuid?.() === 0)("a read-only directory (EACCES) fails the Effect with a BlobError", () =>
    noUncaught(Effect.gen(function*() {
      const root = yield* scratchRoot
      const store = yield* make(root)
      yield* Effect.acquireRelease(Effect.promise(() => fs.chmod(root, 0o500)), () => Effect.promise(() => fs.chmod(root, 0o700)))
      const exit = yield* Effect.exit(store.put("ro.png", chunks(3), options))
      assert.isTrue(Exit.isFailure(exit))
    })))

  it.scopedLive("a body that fails midway fails the Effect with its error and leaves nothing behind", () =>
    noUncaught(Effect.gen(function*() {
      const root = yield* scratchRoot
      const store = yield* make(root)
      const failing = Stream.concat(chunks(8), Stream.fail("the client went away" as const))
      const exit = yield* Effect.exit(store.put("half.png", failing, options))
      assert.deepStrictEqual(exit, Exit.fail("the client went away" as const))
      assert.deepStrictEqual(yield* Effect.promise(() => fs.readdir(root)), [])
    })))

  it.scopedLive("a write interrupted midway (the request was dropped) leaves nothing behind and throws nothing", () =>
    noUncaught(Effect.gen(function*() {
      const root = yield* scratchRoot
      const store = yield* make(root)
      // interrupted at different points: while opening, between writes, while a write is in flight
      for (const afterMs of [0, 1, 2, 3, 5, 8, 13, 21]) {
        const exit = yield* Effect.exit(store.put(`cut-${afterMs}.png`, chunks(2000), options).pipe(Effect.timeout(`${afterMs} millis`)))
        assert.isTrue(Exit.isFailure(exit), `cut after ${afterMs} ms`)
      }
      yield* Effect.sleep("50 millis")
      assert.deepStrictEqual(yield* Effect.promise(() => fs.readdir(root)), [])
    })))
})
