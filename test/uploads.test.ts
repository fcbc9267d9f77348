/**
 * The streamed upload use-case (social/Posts.ts `createFromForm`, social/Uploads.ts `avatar`):
 * the image is stored as its part streams in, so whatever fails after it — a field that does not
 * decode, a form cut short — must remove it again before the error is answered.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll } from "vitest"
import { type Account, request, signup, TestApp } from "./support/app.ts"
import { plainPng } from "./support/images.ts"

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "aperture-uploads-"))
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }))
const stored = () => (fs.existsSync(path.join(dataDir, "media")) ? fs.readdirSync(path.join(dataDir, "media")) : [])

/** A form whose image comes first, so it is stored before the fields after it are read. */
const imageThen = (image: Uint8Array, fields: Record<string, string>) => {
  const form = new FormData()
  form.append("image", new Blob([new Uint8Array(image)], { type: "image/png" }), "photo.png")
  for (const [k, v] of Object.entries(fields)) form.append(k, v)
  return form
}

const post = (a: Account, body: FormData) => request("/api/v1/posts", { method: "POST", headers: a.bearer, body })

describe("streamed uploads", () => {
  layer(TestApp({ dataDir }), { timeout: "60 seconds", excludeTestServices: true })((it) => {
    it.effect("a field that does not decode after the stored image: 400 naming it, and the image is gone", () =>
      Effect.gen(function*() {
        const a = yield* signup()
        const png = new Uint8Array(yield* Effect.promise(() => plainPng(64, 64)))
        const bad = yield* post(a, imageThen(png, { caption: "x".repeat(2201) }))
        assert.strictEqual(bad.status, 400, bad.text)
        assert.deepStrictEqual([...new Set(bad.json.error.details.map((d: { path: Array<string> }) => d.path.join(".")))], ["caption"])
        assert.deepStrictEqual(stored().filter((f) => f.startsWith("orig-")), [], "no original stays behind")
        const good = yield* post(a, imageThen(png, { caption: "fine" }))
        assert.strictEqual(good.status, 202, good.text)
        assert.isNotNull(good.headers.get("x-ratelimit-limit"), "the write budget is reported")
        assert.include(stored(), `orig-${good.json.postId}`)
      }))

    it.effect("avatars: a form without an image is a 400 and keeps nothing", () =>
      Effect.gen(function*() {
        const a = yield* signup()
        const form = new FormData()
        form.append("caption", "no image here")
        const r = yield* request("/api/v1/users/me/avatar", { method: "PUT", headers: a.bearer, body: form })
        assert.strictEqual(r.status, 400, r.text)
        assert.deepStrictEqual(stored().filter((f) => f.startsWith(`avatar-orig-${a.id}`)), [])
      }))
  })
})
