/**
 * The media pipeline end to end, on the filesystem store and on an S3-compatible server: uploads
 * (multipart and direct), the worker's output (upright, no metadata, four WebP sizes), serving,
 * failures (unsupported, too large, pixel bomb, truncated) and deletion.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, layer, type Vitest } from "@effect/vitest"
import { Effect, Layer, Option, Redacted } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import sharp from "sharp"
import type { AppConfigShape } from "../src/config/AppConfig.ts"
import { BlobStore } from "../src/media/BlobStore.ts"
import { Nats } from "../src/streams/Nats.ts"
import { StreamNames } from "../src/streams/Topology.ts"
import { type Account, baseUrl, request, signup, TestApp } from "./support/app.ts"
import { multipart, pixelBombPng, plainPng, sidewaysJpegWithGps, truncatedJpeg } from "./support/images.ts"
import { s3Server as withS3 } from "./support/servers.ts"

const fast: Partial<AppConfigShape> = {
  media: {
    concurrency: 2,
    maxPixels: 40_000_000,
    uploadTtlSeconds: 900,
    uploadSigningKey: Redacted.make("test-signing-key"),
    s3Delivery: "proxy",
    ackWaitSeconds: 30,
    retryDelaysMillis: [50, 50, 50, 50]
  }
}


const upload = (account: Account, image: Uint8Array, fields: Record<string, string> = {}, filename = "photo.jpg", type = "image/jpeg") =>
  request("/api/v1/posts", { method: "POST", headers: account.bearer, body: multipart(image, fields, filename, type) })

const waitForStatus = (account: Account, postId: string, wanted: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 300; i++) {
      const r = yield* request(`/api/v1/posts/${postId}`, { headers: account.bearer })
      if (wanted.includes(r.json?.status)) return r.json
      yield* Effect.promise(() => new Promise((res) => setTimeout(res, 100)))
    }
    return yield* Effect.dieMessage(`post ${postId} never became ${wanted.join(" or ")}`)
  })

const bytesOf = (url: string, headers: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const base = yield* baseUrl
    return yield* Effect.promise(async () => {
      const res = await fetch(base + url, { headers })
      return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) }
    })
  })

const suite = (store: "fs" | "s3") => (it: Vitest.MethodsNonLive<any, true>) => {
  it.effect(`[${store}] an EXIF-rotated photo with GPS comes out upright, in four WebP sizes, with no metadata`, () =>
    Effect.gen(function*() {
      const a = yield* signup()
      const r = yield* upload(a, yield* Effect.promise(() => sidewaysJpegWithGps()), {
        caption: "Sunrise with @nobody_here #Morning #sun #morning",
        altText: "a red and blue test card"
      })
      assert.strictEqual(r.status, 202, r.text)
      assert.strictEqual(r.json.status, "processing")
      assert.notStrictEqual(r.headers.get("connection"), "close", "a fully read upload keeps the connection")
      const post = yield* waitForStatus(a, r.json.postId, ["published", "failed"])
      assert.strictEqual(post.status, "published", JSON.stringify(post))
      assert.deepStrictEqual(post.hashtags, ["morning", "sun"])
      assert.strictEqual(post.altText, "a red and blue test card")
      assert.match(post.placeholder, /^data:image\/webp;base64,/)
      assert.isBelow(post.placeholder.length, 1000)
      assert.match(post.dominantColor, /^#[0-9a-f]{6}$/)
      assert.isAbove(post.height, post.width, "sideways landscape is upright portrait")
      const expected: Record<string, number> = { thumbnail: 150, small: 320, medium: 640, large: 1080 }
      for (const [name, width] of Object.entries(expected)) {
        const v = yield* bytesOf(post.variants[name])
        assert.strictEqual(v.status, 200)
        assert.strictEqual(v.headers.get("content-type"), "image/webp")
        assert.strictEqual(v.headers.get("cache-control"), "public, max-age=31536000, immutable")
        assert.strictEqual(v.headers.get("x-content-type-options"), "nosniff")
        assert.isString(v.headers.get("etag"))
        const meta = yield* Effect.promise(() => sharp(v.body).metadata())
        assert.strictEqual(meta.format, "webp")
        // never enlarged: the upright fixture is 800 px wide
        assert.strictEqual(meta.width, Math.min(width, 800))
        assert.isUndefined(meta.exif, `${name} carries no EXIF (no GPS)`)
        assert.isUndefined(meta.orientation)
        if (name !== "thumbnail") {
          assert.isAbove(meta.height!, meta.width!)
          // red was the left half sideways: upright it is the top
          const { data } = yield* Effect.promise(() => sharp(v.body).extract({ left: 0, top: 0, width: 4, height: 4 }).raw().toBuffer({ resolveWithObject: true }))
          assert.isAbove(data[0]!, 150, "top is red")
          assert.isBelow(data[2]!, 100)
        }
      }
      const original = yield* bytesOf(`/media/orig-${post.id}`)
      assert.strictEqual(original.status, 404, "originals are never served")
    }))

  it.effect(`[${store}] media honours Range and If-None-Match`, () =>
    Effect.gen(function*() {
      const a = yield* signup()
      const r = yield* upload(a, yield* Effect.promise(() => plainPng()), {}, "p.png", "image/png")
      const post = yield* waitForStatus(a, r.json.postId, ["published"])
      const whole = yield* bytesOf(post.variants.small)
      const part = yield* bytesOf(post.variants.small, { range: "bytes=10-19" })
      assert.strictEqual(part.status, 206)
      assert.strictEqual(part.headers.get("content-range"), `bytes 10-19/${whole.body.length}`)
      assert.deepStrictEqual(part.body, whole.body.subarray(10, 20))
      const tail = yield* bytesOf(post.variants.small, { range: "bytes=-5" })
      assert.deepStrictEqual(tail.body, whole.body.subarray(whole.body.length - 5))
      const bad = yield* bytesOf(post.variants.small, { range: `bytes=${whole.body.length + 10}-` })
      assert.strictEqual(bad.status, 416)
      const cached = yield* bytesOf(post.variants.small, { "if-none-match": whole.headers.get("etag")! })
      assert.strictEqual(cached.status, 304)
    }))

  it.effect(`[${store}] a text file named .jpg is a 415; an 11 MB image is a 413; nothing is kept`, () =>
    Effect.gen(function*() {
      const a = yield* signup()
      const text = yield* upload(a, new TextEncoder().encode("just some text, honestly".repeat(10)), {}, "evil.jpg", "image/jpeg")
      assert.strictEqual(text.status, 415, text.text)
      const big = Buffer.alloc(11 * 1024 * 1024, 0xff)
      big[0] = 0xff
      big[1] = 0xd8
      big[2] = 0xff
      const tooBig = yield* upload(a, big)
      assert.strictEqual(tooBig.status, 413, tooBig.text)
      // the unread rest of an 11 MB body is drained (under the 16 MB cut-off), so the answer is never lost to a reset
      const none = yield* request("/api/v1/posts", { method: "POST", headers: a.bearer, body: (() => {
        const f = new FormData()
        f.append("caption", "no image")
        return f
      })() })
      assert.strictEqual(none.status, 400)
      const anonymous = yield* request("/api/v1/posts", { method: "POST", body: multipart(new Uint8Array([1, 2, 3])) })
      assert.strictEqual(anonymous.status, 401)
      const sql = yield* SqlClient.SqlClient
      const [n] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM posts WHERE author_id = ${a.id}`
      assert.strictEqual(n!.n, 0)
    }))

  it.effect(`[${store}] an unreadable header or a pixel bomb is a 422 at upload; a truncated JPEG fails on its first attempt, with a dead letter`, () =>
    Effect.gen(function*() {
      const a = yield* signup()
      const sql = yield* SqlClient.SqlClient
      const jpeg = yield* Effect.promise(() => sharp({ create: { width: 800, height: 600, channels: 3, background: "#c33" } }).jpeg().toBuffer())
      const refused: ReadonlyArray<readonly [string, Uint8Array, string, string]> = [
        ["a pixel bomb", pixelBombPng(), "image/png", "ImageTooLarge"],
        ["a JPEG cut inside its header", jpeg.subarray(0, 40), "image/jpeg", "UnreadableImage"],
        ["a JPEG whose header is corrupt", Buffer.concat([jpeg.subarray(0, 4), Buffer.alloc(200, 0x41), jpeg.subarray(204)]), "image/jpeg", "UnreadableImage"],
        ["a WebP that is only its RIFF signature", Buffer.from("RIFF\0\0\0\0WEBPVP8 junkjunkjunkjunkjunkjunk"), "image/webp", "UnreadableImage"]
      ]
      for (const [name, bytes, type, reason] of refused) {
        const r = yield* upload(a, bytes, {}, "x.img", type)
        assert.strictEqual(r.status, 422, `${name}: ${r.text}`)
        assert.strictEqual(r.json.error.code, "Unprocessable", name)
        assert.strictEqual(r.json.error.details.reason, reason, name)
        assert.match(r.json.error.message, /cannot be used/, name)
      }
      const [none] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM posts WHERE author_id = ${a.id}`
      assert.strictEqual(none!.n, 0, "nothing refused became a post")
      // its header is fine, so it is accepted; its data is not, and that is known on the first decode
      const truncated = yield* upload(a, yield* Effect.promise(() => truncatedJpeg()))
      assert.strictEqual(truncated.status, 202, truncated.text)
      const gone = yield* waitForStatus(a, truncated.json.postId, ["failed", "published"])
      assert.strictEqual(gone.status, "failed")
      const [row] = yield* sql<{ attempts: number; failure: string }>`SELECT attempts, failure FROM posts WHERE id = ${truncated.json.postId}`
      assert.strictEqual(row!.attempts, 1, "decoded once: a broken image is not retried")
      assert.match(row!.failure, /truncated/)
      const [letter] = yield* sql<{ source: string; consumer: string; deliveries: number; error: string }>`
        SELECT source, consumer, deliveries, error FROM dead_letters WHERE payload->>'id' = ${truncated.json.postId}`
      assert.deepStrictEqual({ ...letter!, error: undefined }, { source: "media", consumer: "media-worker", deliveries: 1, error: undefined })
      // the dead letter reaches MEDIA_DLQ through the outbox
      const nats = yield* Nats
      let dead = 0
      for (let i = 0; i < 50 && dead < 1; i++) {
        dead = (yield* Effect.promise(() => nats.jsm.streams.info(nats.name(StreamNames.mediaDlq)))).state.messages
        if (dead < 1) yield* Effect.promise(() => new Promise((r) => setTimeout(r, 100)))
      }
      assert.strictEqual(dead, 1)
      const other = yield* signup()
      assert.strictEqual((yield* request(`/api/v1/posts/${gone.id}`, { headers: other.bearer })).status, 404, "others never see a failed post")
      const [events] = yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM outbox WHERE subject = ${`inbox.${a.id}`} AND payload->>'type' = 'post_failed'`
      assert.strictEqual(events!.n, 1, "the author is told")
    }))

  it.effect(`[${store}] a direct upload whose header cannot be read is a 422 when the post is created`, () =>
    Effect.gen(function*() {
      const a = yield* signup()
      const target = yield* request("/api/v1/uploads", { method: "POST", headers: a.bearer })
      const jpeg = yield* Effect.promise(() => sharp({ create: { width: 300, height: 200, channels: 3, background: "#3c3" } }).jpeg().toBuffer())
      const put = yield* Effect.promise(() => fetch(target.json.url, { method: "PUT", body: new Uint8Array(jpeg.subarray(0, 30)) }))
      assert.oneOf(put.status, [200, 204])
      const created = yield* request("/api/v1/posts", {
        method: "POST",
        headers: { ...a.bearer, "content-type": "application/json" },
        body: JSON.stringify({ uploadId: target.json.uploadId })
      })
      assert.strictEqual(created.status, 422, created.text)
      assert.strictEqual(created.json.error.details.reason, "UnreadableImage")
    }))

  it.effect(`[${store}] direct upload: target, PUT, create; reuse and expiry are refused`, () =>
    Effect.gen(function*() {
      const a = yield* signup()
      const target = yield* request("/api/v1/uploads", { method: "POST", headers: a.bearer })
      assert.strictEqual(target.status, 201)
      assert.strictEqual(target.json.method, "PUT")
      assert.isBelow(Date.parse(target.json.expiresAt) - Date.now(), 15 * 60 * 1000 + 1000)
      const png = new Uint8Array(yield* Effect.promise(() => plainPng(800, 800)))
      const put = yield* Effect.promise(() => fetch(target.json.url, { method: "PUT", headers: { "content-type": "image/png" }, body: png }))
      assert.oneOf(put.status, [200, 204])
      const created = yield* request("/api/v1/posts", {
        method: "POST",
        headers: { ...a.bearer, "content-type": "application/json" },
        body: JSON.stringify({ uploadId: target.json.uploadId, caption: "direct" })
      })
      assert.strictEqual(created.status, 202, created.text)
      const post = yield* waitForStatus(a, created.json.postId, ["published"])
      assert.strictEqual(post.caption, "direct")
      const again = yield* request("/api/v1/posts", {
        method: "POST",
        headers: { ...a.bearer, "content-type": "application/json" },
        body: JSON.stringify({ uploadId: target.json.uploadId })
      })
      assert.strictEqual(again.status, 409, "an upload makes one post")
      const stale = yield* request("/api/v1/uploads", { method: "POST", headers: a.bearer })
      yield* Effect.promise(() => fetch(stale.json.url, { method: "PUT", body: png }))
      const sql = yield* SqlClient.SqlClient
      yield* sql`UPDATE uploads SET expires_at = now() - interval '1 second' WHERE id = ${stale.json.uploadId}`
      const expired = yield* request("/api/v1/posts", {
        method: "POST",
        headers: { ...a.bearer, "content-type": "application/json" },
        body: JSON.stringify({ uploadId: stale.json.uploadId })
      })
      assert.strictEqual(expired.status, 422)
      const someoneElse = yield* signup()
      const fresh = yield* request("/api/v1/uploads", { method: "POST", headers: a.bearer })
      const stolen = yield* request("/api/v1/posts", {
        method: "POST",
        headers: { ...someoneElse.bearer, "content-type": "application/json" },
        body: JSON.stringify({ uploadId: fresh.json.uploadId })
      })
      assert.strictEqual(stolen.status, 404, "an upload is its owner's alone")
      if (store === "fs") {
        const forged = yield* Effect.promise(() => fetch(fresh.json.url.replace(/sig=[^&]+/, "sig=forged"), { method: "PUT", body: png }))
        assert.strictEqual(forged.status, 403)
        const once = yield* Effect.promise(() => fetch(fresh.json.url, { method: "PUT", body: png }))
        assert.strictEqual(once.status, 204)
        const twice = yield* Effect.promise(() => fetch(fresh.json.url, { method: "PUT", body: png }))
        assert.strictEqual(twice.status, 409)
      }
    }))

  it.effect(`[${store}] deleting a post removes its row and every object, and says so on the bus`, () =>
    Effect.gen(function*() {
      const a = yield* signup()
      const r = yield* upload(a, yield* Effect.promise(() => plainPng()), { caption: "#bye" }, "p.png", "image/png")
      const post = yield* waitForStatus(a, r.json.postId, ["published"])
      const blobs = yield* BlobStore
      const keys = [`orig-${post.id}`, ...Object.values(post.variants as Record<string, string>).map((u) => u.replace("/media/", ""))]
      for (const k of keys) assert.isTrue(Option.isSome(yield* Effect.orDie(blobs.stat(k))), `${k} exists`)
      const other = yield* signup()
      assert.strictEqual((yield* request(`/api/v1/posts/${post.id}`, { method: "DELETE", headers: other.bearer })).status, 404)
      assert.strictEqual((yield* request(`/api/v1/posts/${post.id}`, { method: "DELETE", headers: a.bearer })).status, 204)
      for (const k of keys) assert.isTrue(Option.isNone(yield* Effect.orDie(blobs.stat(k))), `${k} removed`)
      assert.strictEqual((yield* request(`/api/v1/posts/${post.id}`, { headers: a.bearer })).status, 404)
      const sql = yield* SqlClient.SqlClient
      const [ev] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM outbox WHERE subject = 'ev.post.deleted' AND payload->'payload'->>'postId' = ${post.id}`
      assert.strictEqual(ev!.n, 1)
      const [tags] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM hashtags WHERE post_id = ${post.id}`
      assert.strictEqual(tags!.n, 0)
    }))
}

const follow = (viewer: Account, target: Account) => request(`/api/v1/users/${target.username}/follow`, { method: "POST", headers: viewer.bearer })

describe("media on the filesystem store", () => {
  layer(TestApp({ ...fast, dataDir: fs.mkdtempSync(path.join(os.tmpdir(), "aperture-fs-")), adminUsernames: ["root_admin"] }), {
    timeout: "120 seconds",
    excludeTestServices: true
  })((it) => {
    suite("fs")(it)

    it.effect("a private author's posts reach followers only; a block hides them; the grid follows the same rules", () =>
      Effect.gen(function*() {
        const author = yield* signup({ isPrivate: true })
        const fan = yield* signup()
        const stranger = yield* signup()
        yield* follow(fan, author)
        const pending = yield* request("/api/v1/follow-requests", { headers: author.bearer })
        yield* request(`/api/v1/follow-requests/${pending.json.items[0].id}/approve`, { method: "POST", headers: author.bearer })
        const r = yield* upload(author, yield* Effect.promise(() => plainPng()), { caption: "for friends, with @" + fan.username }, "p.png", "image/png")
        const post = yield* waitForStatus(author, r.json.postId, ["published"])
        assert.deepStrictEqual(post.mentions, [fan.username])
        assert.strictEqual((yield* request(`/api/v1/posts/${post.id}`, { headers: fan.bearer })).status, 200)
        assert.strictEqual((yield* request(`/api/v1/posts/${post.id}`, { headers: stranger.bearer })).status, 404)
        assert.strictEqual((yield* request(`/api/v1/posts/${post.id}`)).status, 404)
        const grid = yield* request(`/api/v1/users/${author.username}/posts`, { headers: fan.bearer })
        assert.deepStrictEqual(grid.json.items.map((p: { id: string }) => p.id), [post.id])
        const hidden = yield* request(`/api/v1/users/${author.username}/posts`, { headers: stranger.bearer })
        assert.deepStrictEqual(hidden.json.items, [])
        yield* request(`/api/v1/users/${fan.username}/block`, { method: "POST", headers: author.bearer })
        assert.strictEqual((yield* request(`/api/v1/posts/${post.id}`, { headers: fan.bearer })).status, 404)
        assert.strictEqual((yield* request(`/api/v1/users/${author.username}/posts`, { headers: fan.bearer })).status, 404)
      }))

    it.effect("an avatar goes through the pipeline as square 150/320 variants", () =>
      Effect.gen(function*() {
        const a = yield* signup()
        const r = yield* request("/api/v1/users/me/avatar", {
          method: "PUT",
          headers: a.bearer,
          body: multipart(yield* Effect.promise(() => sidewaysJpegWithGps(900, 600)))
        })
        assert.strictEqual(r.status, 202, r.text)
        let avatar: Record<string, string> | null = null
        for (let i = 0; i < 100 && avatar === null; i++) {
          avatar = (yield* request(`/api/v1/users/${a.username}`)).json.avatar
          if (avatar === null) yield* Effect.promise(() => new Promise((res) => setTimeout(res, 100)))
        }
        assert.isNotNull(avatar)
        for (const [url, size] of [[avatar!.thumbnail!, 150], [avatar!.medium!, 320]] as const) {
          const v = yield* bytesOf(url)
          assert.strictEqual(v.status, 200)
          const meta = yield* Effect.promise(() => sharp(v.body).metadata())
          assert.deepStrictEqual([meta.width, meta.height], [size, size])
          assert.isUndefined(meta.exif)
        }
        const text = yield* request("/api/v1/users/me/avatar", { method: "PUT", headers: a.bearer, body: multipart(new TextEncoder().encode("not an image at all")) })
        assert.strictEqual(text.status, 415)
        const cut = (yield* Effect.promise(() => plainPng(200, 200))).subarray(0, 40)
        const unreadable = yield* request("/api/v1/users/me/avatar", { method: "PUT", headers: a.bearer, body: multipart(cut, {}, "me.png", "image/png") })
        assert.strictEqual(unreadable.status, 422, unreadable.text)
        assert.strictEqual(unreadable.json.error.details.reason, "UnreadableImage")
      }))

    it.effect("an admin can requeue a failed post; nobody else can", () =>
      Effect.gen(function*() {
        const a = yield* signup()
        const bad = yield* upload(a, yield* Effect.promise(() => truncatedJpeg()))
        yield* waitForStatus(a, bad.json.postId, ["failed"])
        assert.strictEqual((yield* request(`/api/v1/admin/media/${bad.json.postId}/requeue`, { method: "POST", headers: a.bearer })).status, 403)
        const admin = yield* signup({ username: "root_admin" })
        const requeued = yield* request(`/api/v1/admin/media/${bad.json.postId}/requeue`, { method: "POST", headers: admin.bearer })
        assert.strictEqual(requeued.status, 202)
        // the original is still broken: it is tried once more and fails again
        const again = yield* waitForStatus(a, bad.json.postId, ["failed"])
        assert.strictEqual(again.status, "failed")
        const sql = yield* SqlClient.SqlClient
        const [row] = yield* sql<{ attempts: number }>`SELECT attempts FROM posts WHERE id = ${bad.json.postId}`
        assert.strictEqual(row!.attempts, 2)
      }))
  })
})

describe("media on an S3-compatible store", () => {
  layer(
    Layer.unwrapScoped(Effect.map(withS3, (endpoint) =>
      TestApp({
        ...fast,
        mediaStore: "s3",
        s3: { endpoint, accessKey: Redacted.make("S3RVER"), secretKey: Redacted.make("S3RVER"), bucket: `ap-${Date.now().toString(36)}` }
      }))),
    { timeout: "120 seconds", excludeTestServices: true }
  )(suite("s3"))
})
