/**
 * The Sharp error classifier over real broken images, made here with Sharp and cut or corrupted:
 * whatever the image's own fault is permanent (`ImageRejected`, with a code), and a failure that is
 * not about the image stays retryable (`ImageFailed`).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import sharp from "sharp"
import { classifySharpError, ImageFailed, render } from "./Pipeline.ts"

const solid = (format: "jpeg" | "png" | "webp" | "gif" | "avif") =>
  Effect.promise(() =>
    sharp({ create: { width: 400, height: 300, channels: 3, background: { r: 200, g: 60, b: 30 } } })[format]().toBuffer()
  )

const renderError = (bytes: Uint8Array) =>
  render(bytes, { kind: "post", maxPixels: 40_000_000 }).pipe(Effect.flip, Effect.either, Effect.map(Either.getOrThrow))

const sosOf = (jpeg: Buffer) => jpeg.indexOf(Buffer.from([0xff, 0xda]))

describe("classifySharpError", () => {
  it.effect("broken images are rejected for good, with a reason and a code", () =>
    Effect.gen(function*() {
      const jpeg = yield* solid("jpeg")
      const png = yield* solid("png")
      const webp = yield* solid("webp")
      const gif = yield* solid("gif")
      const avif = yield* solid("avif")
      const cases: ReadonlyArray<readonly [string, Uint8Array]> = [
        ["truncated JPEG (header intact)", jpeg.subarray(0, Math.floor(jpeg.length / 3))],
        ["header-only JPEG", jpeg.subarray(0, sosOf(jpeg) + 14)],
        ["JPEG with a corrupt header", Buffer.concat([jpeg.subarray(0, 4), Buffer.alloc(200, 0x41), jpeg.subarray(204)])],
        ["truncated PNG", png.subarray(0, Math.floor(png.length / 2))],
        ["PNG without IHDR", Buffer.concat([png.subarray(0, 12), Buffer.alloc(20, 7), png.subarray(32)])],
        ["truncated WebP", webp.subarray(0, Math.floor(webp.length / 2))],
        ["truncated GIF", gif.subarray(0, Math.floor(gif.length / 2))],
        ["truncated AVIF", avif.subarray(0, Math.floor(avif.length / 2))],
        ["not an image", Buffer.from("definitely not an image, just text")]
      ]
      for (const [name, bytes] of cases) {
        const error = yield* renderError(bytes)
        assert.strictEqual(error._tag, "ImageRejected", `${name}: ${String((error as ImageFailed).cause ?? "")}`)
        if (error._tag === "ImageRejected") {
          assert.isDefined(error.code, name)
          assert.isAbove(error.reason.length, 10, name)
        }
      }
    }))

  it.effect("the pixel limit is ImageTooLarge, from the header or from Sharp's own check", () =>
    Effect.gen(function*() {
      const png = yield* solid("png")
      const error = yield* render(png, { kind: "post", maxPixels: 1000 }).pipe(Effect.flip)
      assert.strictEqual(error._tag, "ImageRejected")
      assert.strictEqual(error._tag === "ImageRejected" ? error.code : undefined, "ImageTooLarge")
      const sharps = yield* Effect.promise(() => sharp(png, { limitInputPixels: 100 }).raw().toBuffer().then(() => undefined, (e: unknown) => e))
      const classified = classifySharpError(sharps)
      assert.strictEqual(classified._tag, "ImageRejected")
      assert.strictEqual(classified._tag === "ImageRejected" ? classified.code : undefined, "ImageTooLarge")
    }))

  it("an unsupported format is UnsupportedImage", () => {
    const e = classifySharpError(new Error("Input buffer contains unsupported image format"))
    assert.strictEqual(e._tag === "ImageRejected" ? e.code : e._tag, "UnsupportedImage")
  })

  it("failures that are not the image's stay retryable", () => {
    for (const message of ["vips_malloc: out of memory", "EMFILE: too many open files", "some unknown libvips hiccup"]) {
      assert.strictEqual(classifySharpError(new Error(message))._tag, "ImageFailed", message)
    }
    assert.strictEqual(classifySharpError(undefined)._tag, "ImageFailed")
  })

  it.effect("a whole image still renders", () =>
    Effect.gen(function*() {
      const result = yield* render(yield* solid("jpeg"), { kind: "post", maxPixels: 40_000_000 })
      assert.strictEqual(result.renditions.length, 4)
    }))
})
