/**
 * Carousels: a post of 1–10 photos. Multipart with an `altText` before each `image`, and direct
 * uploads with `uploadIds`, give one post whose `media` keeps the order, each photo with its own
 * variants (served), size and alt text; the single-image fields are the first photo's. 0 or 11
 * photos and bad alt text are readable 400s that store nothing; editing sets each photo's alt
 * text; deleting removes every photo's files.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import sharp from "sharp"
import { type Account, baseUrl, request, signup, TestApp } from "./support/app.ts"

const png = (width: number, height: number, r: number) =>
  Effect.promise(() => sharp({ create: { width, height, channels: 3, background: { r, g: 90, b: 160 } } }).png().toBuffer())

/** A form of photos, each preceded by its alt text (when given), as the composer sends it. */
const form = (photos: ReadonlyArray<{ readonly bytes: Uint8Array; readonly alt?: string }>, caption = "") => {
  const f = new FormData()
  f.append("caption", caption)
  for (const p of photos) {
    if (p.alt !== undefined) f.append("altText", p.alt)
    f.append("image", new Blob([new Uint8Array(p.bytes)], { type: "image/png" }), "p.png")
  }
  return f
}

const post = (who: Account, body: FormData | string) =>
  request("/api/v1/posts", {
    method: "POST",
    headers: { ...who.bearer, ...(typeof body === "string" ? { "content-type": "application/json" } : {}) },
    body
  })

const published = (who: Account, postId: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 300; i++) {
      const r = yield* request(`/api/v1/posts/${postId}`, { headers: who.bearer })
      if (r.json?.status === "published" || r.json?.status === "failed") return r.json
      yield* Effect.promise(() => new Promise((res) => setTimeout(res, 100)))
    }
    return yield* Effect.dieMessage(`post ${postId} never finished`)
  })

const status = (url: string) =>
  Effect.gen(function*() {
    const base = yield* baseUrl
    return yield* Effect.promise(() => fetch(base + url).then((r) => r.status))
  })

describe("carousels", () => {
  layer(TestApp({
    rateLimits: { signupsPerIpPerHour: 10_000, loginFailuresPerAccountPer15Min: 5, loginFailuresPerIpPer15Min: 50, followsPerUserPerHour: 10_000, writesPerUserPerMinute: 10_000, dmSendsPerUserPerMinute: 100_000, dmThreadsPerUserPerHour: 10_000 }
  }), { timeout: "120 seconds", excludeTestServices: true })((it) => {
    it.effect("three photos publish as one post, in order, each with its variants and alt text", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const a = yield* signup()
        const photos = [
          { bytes: yield* png(800, 1000, 10), alt: "first: a portrait" },
          { bytes: yield* png(1200, 628, 120) }, // no alt text
          { bytes: yield* png(600, 600, 240), alt: "third: a square" }
        ]
        const r = yield* post(a, form(photos, "three #days"))
        assert.strictEqual(r.status, 202, r.text)
        const p = yield* published(a, r.json.postId)
        assert.strictEqual(p.status, "published", JSON.stringify(p))
        assert.strictEqual(p.media.length, 3)
        assert.deepStrictEqual(p.media.map((m: any) => m.altText), ["first: a portrait", "", "third: a square"])
        assert.deepStrictEqual(p.media.map((m: any) => m.status), ["ready", "ready", "ready"])
        assert.deepStrictEqual(p.media.map((m: any) => [m.width, m.height]), [[800, 1000], [1080, 565], [600, 600]])
        // the single-image fields are the first photo's
        assert.strictEqual(p.altText, "first: a portrait")
        assert.deepStrictEqual(p.variants, p.media[0].variants)
        const urls = new Set(p.media.map((m: any) => m.variants.large))
        assert.strictEqual(urls.size, 3, "each photo has its own files")
        for (const m of p.media) assert.strictEqual(yield* status(m.variants.medium), 200)
        // one post_ready, one event: the post row is published once
        const rows = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM post_media WHERE post_id = ${r.json.postId}`
        assert.strictEqual(rows[0]!.n, 3)

        // the grid shows the carousel too
        const grid = yield* request(`/api/v1/users/${a.username}/posts`, { headers: a.bearer })
        assert.strictEqual(grid.json.items[0].media.length, 3)

        // editing: each photo's alt text in order; the first is the post's altText
        const edit = yield* request(`/api/v1/posts/${p.id}`, {
          method: "PATCH",
          headers: { ...a.bearer, "content-type": "application/json" },
          body: JSON.stringify({ caption: "edited", altTexts: ["one", "two", "three"] })
        })
        assert.strictEqual(edit.status, 200, edit.text)
        assert.deepStrictEqual(edit.json.media.map((m: any) => m.altText), ["one", "two", "three"])
        assert.strictEqual(edit.json.altText, "one")
        const tooMany = yield* request(`/api/v1/posts/${p.id}`, {
          method: "PATCH",
          headers: { ...a.bearer, "content-type": "application/json" },
          body: JSON.stringify({ altTexts: Array.from({ length: 11 }, () => "x") })
        })
        assert.strictEqual(tooMany.status, 400)

        // deleting removes every photo's files
        assert.strictEqual((yield* request(`/api/v1/posts/${p.id}`, { method: "DELETE", headers: a.bearer })).status, 204)
        for (const m of p.media) assert.strictEqual(yield* status(m.variants.medium), 404)
        const left = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM post_media WHERE post_id = ${p.id}`
        assert.strictEqual(left[0]!.n, 0)
      }))

    it.effect("0 or 11 photos, and alt text over 1,000 characters, are readable 400s", () =>
      Effect.gen(function*() {
        const a = yield* signup()
        const small = yield* png(40, 40, 50)
        const none = yield* post(a, form([], "nothing"))
        assert.strictEqual(none.status, 400)
        assert.match(none.json.error.message, /image/)
        const eleven = yield* post(a, form(Array.from({ length: 11 }, () => ({ bytes: small }))))
        assert.strictEqual(eleven.status, 400, eleven.text)
        assert.match(eleven.json.error.message, /at most 10 photos/)
        const longAlt = yield* post(a, form([{ bytes: small }, { bytes: small, alt: "x".repeat(1001) }]))
        assert.strictEqual(longAlt.status, 400, longAlt.text)
        const stray = new FormData()
        stray.append("altText[3]", "for nobody")
        stray.append("image", new Blob([new Uint8Array(small)], { type: "image/png" }), "p.png")
        assert.strictEqual((yield* post(a, stray)).status, 400)
        const json = yield* post(a, JSON.stringify({ uploadIds: [] }))
        assert.strictEqual(json.status, 400)
        const both = yield* post(a, JSON.stringify({ uploadId: crypto.randomUUID(), uploadIds: [crypto.randomUUID()] }))
        assert.strictEqual(both.status, 400)
        const me = yield* request("/api/v1/auth/me", { headers: a.bearer })
        assert.strictEqual(me.json.counts.posts, 0, "nothing was created")
      }))

    it.effect("direct uploads make a carousel with uploadIds and altTexts, in order", () =>
      Effect.gen(function*() {
        const a = yield* signup()
        const base = yield* baseUrl
        const ids: Array<string> = []
        for (const shade of [30, 200]) {
          const target = yield* request("/api/v1/uploads", { method: "POST", headers: a.bearer })
          assert.strictEqual(target.status, 201, target.text)
          const bytes = yield* png(500, 400, shade)
          const put = yield* Effect.promise(() =>
            fetch(new URL(target.json.url, base), { method: "PUT", headers: target.json.headers, body: new Uint8Array(bytes) })
          )
          assert.isTrue(put.ok, `PUT ${put.status}`)
          ids.push(target.json.uploadId)
        }
        const r = yield* post(a, JSON.stringify({ uploadIds: ids, caption: "two", altTexts: ["dark", "light"] }))
        assert.strictEqual(r.status, 202, r.text)
        const p = yield* published(a, r.json.postId)
        assert.strictEqual(p.status, "published")
        assert.deepStrictEqual(p.media.map((m: any) => m.altText), ["dark", "light"])
        assert.notStrictEqual(p.media[0].dominantColor, p.media[1].dominantColor)
        // the uploads are used: a second post from them is a 409
        assert.strictEqual((yield* post(a, JSON.stringify({ uploadIds: ids }))).status, 409)
      }))
  })
})
