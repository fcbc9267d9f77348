/**
 * Text PostgreSQL cannot store — U+0000, and in JSON a lone surrogate — is refused by the contract's
 * Schemas with a 400 naming the field, on both transports, wherever a client can put it: path
 * parameters, queries, JSON bodies and multipart fields. Before, the database discovered it
 * (22021 / 22P05) and the client got a 503 or a 500; the server keeps answering either way.
 */
import { afterAll, assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as net from "node:net"
import * as path from "node:path"
import sharp from "sharp"
import { AppConfig, type AppConfigShape } from "../src/config/AppConfig.ts"
import { type Account, baseUrl, publishPost, type Reply, request, signup, TestApp } from "./support/app.ts"
import { multipart, plainPng } from "./support/images.ts"

const settings: Partial<AppConfigShape> = {
  rateLimits: { signupsPerIpPerHour: 10_000, loginFailuresPerAccountPer15Min: 50, loginFailuresPerIpPer15Min: 500, followsPerUserPerHour: 10_000, writesPerUserPerMinute: 10_000, dmSendsPerUserPerMinute: 10_000, dmThreadsPerUserPerHour: 10_000 }
}

const NUL = "\u0000"
const LONE_SURROGATE = "\uD800"

const sleep = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

const sendJson = (method: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  request(path, { method, headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(body) })

/** A 400 whose details name `field` with the storable-text message. */
const assertRefused = (r: Reply, where: string, field: string) => {
  assert.strictEqual(r.status, 400, `${field}: ${r.status} ${r.text}`)
  assert.strictEqual(r.json.error.code, "BadRequest")
  assert.strictEqual(r.json.error.message, `invalid ${where}`)
  const detail = (r.json.error.details as Array<{ path: Array<string>; message: string }>).find((d) => d.path.includes(field))
  assert.isDefined(detail, `details name ${field}: ${r.text}`)
  assert.match(detail!.message, /NUL characters or unpaired surrogates/)
}

let tiny: Uint8Array | undefined
const image = Effect.promise(async () => (tiny ??= await plainPng(48, 48)))

const publish = (author: Account) => publishPost(author, "fine")

/** A PNG of noise (it does not compress): megabytes, so the store is still writing when the client leaves. */
let noisy: Buffer | undefined
const noisyPng = Effect.promise(async () => {
  if (noisy) return noisy
  const raw = Buffer.alloc(900 * 900 * 3)
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24
  return (noisy = await sharp(raw, { raw: { width: 900, height: 900, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer())
})

/** Sends a multipart `POST /posts` (whole, or cut in half) on a raw socket and destroys the socket `afterMs` later. */
const uploadAndDrop = (account: Account, png: Buffer, afterMs: number, whole: boolean) =>
  Effect.gen(function*() {
    const { port } = new URL(yield* baseUrl)
    const boundary = "----aperture" + Math.random().toString(36).slice(2)
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="caption"\r\n\r\ndropped\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="n.png"\r\nContent-Type: image/png\r\n\r\n`),
      png,
      Buffer.from(`\r\n--${boundary}--\r\n`)
    ])
    const head = `POST /api/v1/posts HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${account.bearer.authorization}\r\n` +
      `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${body.length}\r\n\r\n`
    yield* Effect.async<void>((resume) => {
      const socket = net.connect(Number(port), "127.0.0.1", () => {
        socket.write(Buffer.concat([Buffer.from(head), whole ? body : body.subarray(0, body.length >> 1)]))
        setTimeout(() => {
          socket.destroy()
          resume(Effect.void)
        }, afterMs)
      })
      socket.on("error", () => undefined)
    })
  })

for (const transport of ["uws", "node"] as const) {
  describe(`text PostgreSQL cannot store, on ${transport}`, () => {
    // a media directory of its own, so the partial-file check sees only this app's uploads
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "aperture-input-safety-"))
    afterAll(() => rmSync(dataDir, { recursive: true, force: true }))
    layer(TestApp({ ...settings, transport, dataDir }), { timeout: "90 seconds", excludeTestServices: true })((it) => {
      it.effect("path parameters and queries", () =>
        Effect.gen(function*() {
          const me = yield* signup()
          assertRefused(yield* request("/api/v1/users/a%00b"), "path", "username")
          assertRefused(yield* request("/api/v1/users/a%00b/followers"), "path", "username")
          assertRefused(yield* request("/api/v1/users/a%00b/posts"), "path", "username")
          assertRefused(yield* request("/api/v1/users/a%00b/follow", { method: "POST", headers: me.bearer }), "path", "username")
          assertRefused(yield* request("/api/v1/search/users?q=a%00"), "query", "q")
          assertRefused(yield* request("/api/v1/feed?cursor=%00", { headers: me.bearer }), "query", "cursor")
          assertRefused(yield* request("/api/v1/notifications?cursor=x%00y", { headers: me.bearer }), "query", "cursor")
          // the same requests without the NUL are fine
          assert.strictEqual((yield* request(`/api/v1/users/${me.username}`)).status, 200)
          assert.strictEqual((yield* request("/api/v1/search/users?q=a")).status, 200)
        }))

      it.effect("sign-up, log-in and the profile", () =>
        Effect.gen(function*() {
          const me = yield* signup()
          const fresh = `n${Date.now().toString(36)}`
          const account = { username: fresh, email: `${fresh}@example.com`, password: "correct horse battery staple" }
          assertRefused(yield* sendJson("POST", "/api/v1/auth/signup", { ...account, username: `a${NUL}b` }), "body", "username")
          assertRefused(yield* sendJson("POST", "/api/v1/auth/signup", { ...account, email: `a${NUL}@example.com` }), "body", "email")
          assertRefused(yield* sendJson("POST", "/api/v1/auth/signup", { ...account, password: `correct horse${NUL}` }), "body", "password")
          assertRefused(yield* sendJson("POST", "/api/v1/auth/signup", { ...account, displayName: `A${LONE_SURROGATE}` }), "body", "displayName")
          assertRefused(yield* sendJson("POST", "/api/v1/auth/login", { login: `${me.username}${NUL}`, password: "whatever it is" }), "body", "login")
          assertRefused(yield* sendJson("POST", "/api/v1/auth/login", { login: `a${NUL}@example.com`, password: "whatever it is" }), "body", "login")
          assertRefused(yield* sendJson("POST", "/api/v1/auth/login", { login: me.username, password: `correct horse battery staple${NUL}` }), "body", "password")
          assertRefused(yield* sendJson("PATCH", "/api/v1/users/me", { displayName: `Ann${NUL}` }, me.bearer), "body", "displayName")
          assertRefused(yield* sendJson("PATCH", "/api/v1/users/me", { bio: `hello ${LONE_SURROGATE} there` }, me.bearer), "body", "bio")
          assertRefused(yield* sendJson("PATCH", "/api/v1/users/me", { bio: "\uDC00 a lone low surrogate" }, me.bearer), "body", "bio")
          // nothing was created or changed, and well-formed text (an emoji is a surrogate pair) is kept
          assert.strictEqual((yield* request(`/api/v1/users/${fresh}`)).status, 404)
          const updated = yield* sendJson("PATCH", "/api/v1/users/me", { displayName: "Ann 📷", bio: "fine" }, me.bearer)
          assert.strictEqual(updated.status, 200, updated.text)
          assert.strictEqual(updated.json.displayName, "Ann 📷")
          assert.strictEqual((yield* sendJson("POST", "/api/v1/auth/login", { login: me.username, password: "correct horse battery staple" })).status, 200)
        }))

      it.effect("comments and the multipart fields of a post", () =>
        Effect.gen(function*() {
          const me = yield* signup()
          const post = yield* publish(me)
          const comment = (text: string) => sendJson("POST", `/api/v1/posts/${post}/comments`, { text }, me.bearer)
          assertRefused(yield* comment(`first${NUL}`), "body", "text")
          assertRefused(yield* comment(`first ${LONE_SURROGATE}`), "body", "text")
          assert.strictEqual((yield* comment("first 🎉")).status, 201)

          for (const field of ["caption", "altText", "location"]) {
            const r = yield* request("/api/v1/posts", {
              method: "POST",
              headers: me.bearer,
              body: multipart(yield* image, { [field]: `a${NUL}b` }, "p.png", "image/png")
            })
            assertRefused(r, "form", field)
          }
          const r = yield* sendJson("POST", "/api/v1/posts", { uploadId: crypto.randomUUID(), caption: `a${LONE_SURROGATE}` }, me.bearer)
          assertRefused(r, "body", "caption")
          // the refused uploads left no post behind
          const grid = yield* request(`/api/v1/users/${me.username}/posts`, { headers: me.bearer })
          assert.deepStrictEqual(grid.json.items.map((p: { id: string }) => p.id), [post])
        }))

      it.effect("uploads dropped right after they were sent leave no partial file and no dead process", () =>
        Effect.gen(function*() {
          const me = yield* signup()
          const png = yield* noisyPng
          for (const afterMs of [0, 1, 2, 3, 4, 5, 7, 10, 15, 20]) {
            yield* uploadAndDrop(me, png, afterMs, true)
            yield* uploadAndDrop(me, png, afterMs, false)
          }
          yield* sleep(1000)
          assert.strictEqual((yield* request("/healthz")).status, 200)
          const media = path.join((yield* AppConfig).dataDir, "media")
          const partial = (yield* Effect.promise(() => fs.readdir(media).catch(() => []))).filter((f) => f.includes(".part-"))
          assert.deepStrictEqual(partial, [], "no half-written upload stays on disk")
        }))

      it.effect("the server still answers afterwards", () =>
        Effect.gen(function*() {
          const health = yield* request("/healthz")
          assert.strictEqual(health.status, 200)
          assert.strictEqual((yield* request("/readyz")).status, 200)
        }))
    })
  })
}
