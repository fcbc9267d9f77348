/**
 * `Idempotency-Key` on creates (posts, direct uploads, comments), on both transports: a repeat
 * answers the first response and creates nothing; another request with the key is 422; concurrent
 * duplicates create one row; keys are per user, expire after their TTL, survive a restart, and a
 * reservation whose request died is taken over once its lease has passed.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer, Logger, LogLevel } from "effect"
import { FullNodeLive } from "../src/App.ts"
import { AppConfig } from "../src/config/AppConfig.ts"
import { type Account, publishPost, request, signup, TestApp } from "./support/app.ts"
import { TestConfig } from "./support/harness.ts"
import { multipart, plainPng } from "./support/images.ts"

let png: Uint8Array | undefined
const image = Effect.suspend(() => png ? Effect.succeed(png) : Effect.promise(() => plainPng(32, 32)).pipe(Effect.tap((p) => (png = p))))

/** A fresh FormData each time, as a browser retry sends it: the same fields with a new boundary. */
const createPost = (a: Account, key: string | undefined, caption = "hello") =>
  Effect.flatMap(image, (img) =>
    request("/api/v1/posts", {
      method: "POST",
      headers: { ...a.bearer, ...(key === undefined ? {} : { "idempotency-key": key }) },
      body: multipart(img, { caption }, "p.png", "image/png")
    }))

const comment = (a: Account, postId: string, key: string | undefined, text = "nice") =>
  request(`/api/v1/posts/${postId}/comments`, {
    method: "POST",
    headers: { ...a.bearer, "content-type": "application/json", ...(key === undefined ? {} : { "idempotency-key": key }) },
    body: JSON.stringify({ text })
  })

const count = (query: string, id: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe<{ n: number }>(query, [id])).pipe(
    Effect.map((rows) => rows[0]!.n),
    Effect.orDie
  )
const postsOf = (a: Account) => count("SELECT count(*)::int AS n FROM posts WHERE author_id = $1", a.id)
const commentsOn = (postId: string) => count("SELECT count(*)::int AS n FROM comments WHERE post_id = $1", postId)

// the app on the live clock (excludeTestServices): with the TestClock fed into the layer, the
// shutdown's bounded waits (drain, close) run on a clock nobody moves, and a teardown that
// needed one hung past the hook timeout in CI
for (const transport of ["uws", "node"] as const) {
  describe(`Idempotency-Key on ${transport}`, () => {
    layer(TestApp({ transport }), { timeout: "120 seconds", excludeTestServices: true })((it) => {
      it.effect("the same key three times: one post, the same answer, marked as replayed", () =>
        Effect.gen(function*() {
          const a = yield* signup()
          const key = crypto.randomUUID()
          const first = yield* createPost(a, key)
          assert.strictEqual(first.status, 202, first.text)
          assert.isNull(first.headers.get("idempotent-replayed"))
          for (let i = 0; i < 2; i++) {
            const again = yield* createPost(a, key)
            assert.strictEqual(again.status, 202, again.text)
            assert.strictEqual(again.text, first.text)
            assert.strictEqual(again.headers.get("idempotent-replayed"), "true")
          }
          assert.strictEqual(yield* postsOf(a), 1)
        }))

      it.effect("the same key with another body is 422 IdempotencyKeyReused and creates nothing", () =>
        Effect.gen(function*() {
          const a = yield* signup()
          const key = crypto.randomUUID()
          assert.strictEqual((yield* createPost(a, key, "one")).status, 202)
          const other = yield* createPost(a, key, "two")
          assert.strictEqual(other.status, 422, other.text)
          assert.strictEqual(other.json.error.code, "IdempotencyKeyReused")
          assert.strictEqual(yield* postsOf(a), 1)
        }))

      it.effect("20 concurrent posts with one key: one row; every answer the original 202 or 409", () =>
        Effect.gen(function*() {
          const a = yield* signup()
          const key = crypto.randomUUID()
          const answers = yield* Effect.all(Array.from({ length: 20 }, () => createPost(a, key)), { concurrency: "unbounded" })
          assert.strictEqual(yield* postsOf(a), 1)
          const ok = answers.filter((r) => r.status === 202)
          assert.isAtLeast(ok.length, 1)
          assert.strictEqual(new Set(ok.map((r) => r.json.postId)).size, 1)
          for (const r of answers.filter((r) => r.status !== 202)) {
            assert.strictEqual(r.status, 409, r.text)
            assert.strictEqual(r.json.error.code, "IdempotencyInProgress")
          }
          // once settled, the key answers the post that exists
          const after = yield* createPost(a, key)
          assert.strictEqual(after.json.postId, ok[0]!.json.postId)
        }))

      it.effect("comments: a repeat and 20 concurrent ones with one key create one comment", () =>
        Effect.gen(function*() {
          const a = yield* signup()
          const postId = yield* publishPost(a)
          const key = crypto.randomUUID()
          const first = yield* comment(a, postId, key)
          assert.strictEqual(first.status, 201, first.text)
          const again = yield* comment(a, postId, key)
          assert.strictEqual(again.status, 201)
          assert.strictEqual(again.json.id, first.json.id)
          assert.strictEqual(again.headers.get("idempotent-replayed"), "true")
          const reused = yield* comment(a, postId, key, "something else")
          assert.strictEqual(reused.status, 422, reused.text)
          assert.strictEqual(yield* commentsOn(postId), 1)

          const key2 = crypto.randomUUID()
          const answers = yield* Effect.all(Array.from({ length: 20 }, () => comment(a, postId, key2, "burst")), { concurrency: "unbounded" })
          assert.strictEqual(yield* commentsOn(postId), 2)
          const ok = answers.filter((r) => r.status === 201)
          assert.strictEqual(new Set(ok.map((r) => r.json.id)).size, 1)
          assert.isTrue(answers.every((r) => r.status === 201 || r.status === 409), answers.map((r) => r.status).join(","))
        }))

      it.effect("a failed create records nothing: the key stays free for a retry that can succeed", () =>
        Effect.gen(function*() {
          const a = yield* signup()
          const postId = yield* publishPost(a)
          const key = crypto.randomUUID()
          const missing = yield* comment(a, crypto.randomUUID(), key)
          assert.strictEqual(missing.status, 404, missing.text)
          const invalid = yield* comment(a, postId, key, "")
          assert.strictEqual(invalid.status, 400, invalid.text)
          const ok = yield* comment(a, postId, key)
          assert.strictEqual(ok.status, 201, ok.text)
          assert.isNull(ok.headers.get("idempotent-replayed"))
          assert.strictEqual(yield* commentsOn(postId), 1)
        }))

      it.effect("direct uploads: the same key answers the same upload target", () =>
        Effect.gen(function*() {
          const a = yield* signup()
          const key = crypto.randomUUID()
          const start = () => request("/api/v1/uploads", { method: "POST", headers: { ...a.bearer, "idempotency-key": key } })
          const first = yield* start()
          assert.strictEqual(first.status, 201, first.text)
          const again = yield* start()
          assert.strictEqual(again.status, 201)
          assert.strictEqual(again.json.uploadId, first.json.uploadId)
          assert.strictEqual(yield* count("SELECT count(*)::int AS n FROM uploads WHERE user_id = $1", a.id), 1)
        }))

      it.effect("keys are per user; without a key nothing changes; a bad key is 400", () =>
        Effect.gen(function*() {
          const a = yield* signup()
          const b = yield* signup()
          const key = crypto.randomUUID()
          const ra = yield* createPost(a, key)
          const rb = yield* createPost(b, key)
          assert.strictEqual(rb.status, 202, rb.text)
          assert.notStrictEqual(rb.json.postId, ra.json.postId)
          assert.isNull(rb.headers.get("idempotent-replayed"))

          const c = yield* signup()
          assert.strictEqual((yield* createPost(c, undefined)).status, 202)
          assert.strictEqual((yield* createPost(c, undefined)).status, 202)
          assert.strictEqual(yield* postsOf(c), 2)

          for (const bad of ["k".repeat(256), "tab\tinside"]) {
            const r = yield* createPost(c, bad)
            assert.strictEqual(r.status, 400, r.text)
            assert.deepStrictEqual([...new Set(r.json.error.details.map((d: { path: Array<string> }) => d.path.join(".")))], ["idempotency-key"])
            assert.include(r.text, "Idempotency-Key must be 1–255 printable ASCII characters")
          }
          assert.strictEqual((yield* createPost(c, "k".repeat(255))).status, 202)
          assert.strictEqual(yield* postsOf(c), 3)
        }))

      it.effect("a key past its TTL is reusable; a reservation past its lease is taken over", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const a = yield* signup()
          const key = crypto.randomUUID()
          const first = yield* createPost(a, key)
          yield* sql`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE user_id = ${a.id}`
          const later = yield* createPost(a, key)
          assert.strictEqual(later.status, 202)
          assert.notStrictEqual(later.json.postId, first.json.postId)
          assert.isNull(later.headers.get("idempotent-replayed"))
          assert.strictEqual(yield* postsOf(a), 2)

          // a request that died mid-way: its reservation blocks retries only until the lease passes
          const stuck = crypto.randomUUID()
          yield* sql`
            INSERT INTO idempotency_keys (user_id, key, method, path, state, owner, lease_until)
            VALUES (${a.id}, ${stuck}, 'POST', '/api/v1/posts', 'in_flight', ${crypto.randomUUID()}, now() + interval '1 hour')`
          assert.strictEqual((yield* createPost(a, stuck)).status, 409)
          yield* sql`UPDATE idempotency_keys SET lease_until = now() - interval '1 second' WHERE key = ${stuck}`
          assert.strictEqual((yield* createPost(a, stuck)).status, 202)
          assert.strictEqual(yield* postsOf(a), 3)
        }))
    })
  })
}

describe("Idempotency-Key across a restart", () => {
  layer(TestConfig({ scryptLogN: 10 }), { timeout: "120 seconds", excludeTestServices: true })((it) => {
    it.effect("a new app instance on the same database replays the recorded answer", () =>
      Effect.gen(function*() {
        const config = yield* AppConfig
        const instance = (nodeId: string) =>
          FullNodeLive.pipe(
            Layer.provide(Layer.succeed(AppConfig, { ...config, nodeId })),
            Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
          )
        const key = crypto.randomUUID()
        const { account, first } = yield* Effect.gen(function*() {
          const account = yield* signup()
          return { account, first: yield* createPost(account, key) }
        }).pipe(Effect.provide(instance(`${config.nodeId}a`)))
        assert.strictEqual(first.status, 202, first.text)
        const again = yield* createPost(account, key).pipe(Effect.provide(instance(`${config.nodeId}b`)))
        assert.strictEqual(again.status, 202, again.text)
        assert.strictEqual(again.text, first.text)
        assert.strictEqual(again.headers.get("idempotent-replayed"), "true")
      }))
  })
})
