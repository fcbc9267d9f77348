/**
 * A media worker that dies holding a job (frozen with SIGSTOP once the job is delivered to it, then
 * killed): JetStream redelivers the job after the ack wait to the next worker, which finishes it —
 * one publication, one set of objects, one event, one notice.
 */
import { SqlClient } from "@effect/sql"
import { assert, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import sharp from "sharp"
import { ApiNodeLive, BlobStoreLive, CoreLive } from "../src/App.ts"
import * as PostsRepo from "../src/db/Posts.ts"
import * as MediaWorker from "../src/media/MediaWorker.ts"
import { AppConfig } from "../src/config/AppConfig.ts"
import { Nats } from "../src/streams/Nats.ts"
import { ConsumerNames, StreamNames } from "../src/streams/Topology.ts"
import { request, signup } from "./support/app.ts"
import { TestConfig, until } from "./support/harness.ts"
import { multipart } from "./support/images.ts"

const noisyJpeg = (width: number, height: number) => {
  const raw = Buffer.alloc(width * height * 3)
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 92 }).toBuffer()
}

const startWorker = (env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync(() => spawn("node", ["--import", "tsx", "src/main.ts"], { env: { ...process.env, ...env }, stdio: "ignore" })),
    (child) => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL"))
  )

it.scopedLive("a worker killed while holding a job: the job is redelivered and done exactly once", () =>
  Effect.gen(function*() {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "aperture-worker-"))
    yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dataDir, { recursive: true, force: true })))
    const media = {
      concurrency: 1,
      maxPixels: 40_000_000,
      uploadTtlSeconds: 900,
      uploadSigningKey: Redacted.make("k"),
      s3Delivery: "proxy" as const,
      ackWaitSeconds: 2,
      retryDelaysMillis: [100, 100, 100, 100]
    }
    const app = ApiNodeLive.pipe(
      Layer.merge(BlobStoreLive),
      Layer.provideMerge(TestConfig({ scryptLogN: 10, dataDir, media })),
      Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
    )
    yield* Effect.gen(function*() {
      const config = yield* AppConfig
      const sql = yield* SqlClient.SqlClient
      const env = {
        ROLES: "media",
        LOG_LEVEL: "error",
        DATABASE_URL: Redacted.value(config.databaseUrl),
        REDIS_KEY_PREFIX: config.redisKeyPrefix,
        NATS_PREFIX: config.natsPrefix,
        ACTOR_PARTITIONS: String(config.actorPartitions),
        DATA_DIR: dataDir,
        MEDIA_CONCURRENCY: "1",
        MEDIA_ACK_WAIT_SECONDS: "2",
        MEDIA_RETRY_DELAYS_MS: "100,100,100,100"
      }
      const author = yield* signup()
      const nats = yield* Nats
      const consumer = Effect.promise(() => nats.jsm.consumers.info(nats.name(StreamNames.media), ConsumerNames.mediaWorker))
      const image = yield* Effect.promise(() => noisyJpeg(3000, 2000))
      const first: ChildProcess = yield* startWorker(env)
      // freeze the first worker while the server holds a pull request of its: the job will be
      // delivered to it and never finished (if its pull expired just then, let it renew and retry)
      for (let attempt = 0; attempt < 10; attempt++) {
        yield* until(consumer, (c) => c.num_waiting >= 1, 30_000)
        first.kill("SIGSTOP")
        if ((yield* consumer).num_waiting >= 1) break
        first.kill("SIGCONT")
      }
      const created = yield* request("/api/v1/posts", { method: "POST", headers: author.bearer, body: multipart(image) })
      assert.strictEqual(created.status, 202, created.text)
      const postId = created.json.postId
      const held = yield* until(consumer, (c) => c.num_ack_pending === 1, 30_000)
      assert.strictEqual(held.num_ack_pending, 1, "the frozen worker holds the job")
      first.kill("SIGKILL")
      const attempts = sql<{ attempts: number; status: string }>`SELECT attempts, status FROM posts WHERE id = ${postId}`.pipe(
        Effect.map((rows) => rows[0]!),
        Effect.orDie
      )
      assert.strictEqual((yield* attempts).status, "processing")
      yield* startWorker(env)
      const after = yield* until(attempts, (r) => r.status !== "processing", 60_000)
      assert.strictEqual(after.status, "published")
      assert.strictEqual(after.attempts, 1, "processed once")
      // the worker commits `published`, then acknowledges: the ack may still be on its way
      const settled = yield* until(consumer, (c) => c.num_ack_pending === 0, 10_000)
      assert.isAtLeast(settled.num_redelivered + (settled.delivered.consumer_seq - settled.delivered.stream_seq), 1, "it was delivered again")
      assert.strictEqual(settled.num_ack_pending, 0)
      const files = fs.readdirSync(path.join(dataDir, "media")).filter((f) => f.startsWith(postId))
      assert.deepStrictEqual(files.sort(), [150, 1080, 320, 640].map((w) => `${postId}-w${w}.webp`).sort())
      const count = (subject: string) =>
        sql<{ n: number }>`SELECT count(*)::int AS n FROM outbox WHERE subject = ${subject}
                           AND (payload->'payload'->>'postId' = ${postId} OR payload->'payload'->>'postId' IS NULL AND payload::text LIKE ${`%${postId}%`})`.pipe(
          Effect.map((rows) => rows[0]!.n),
          Effect.orDie
        )
      assert.strictEqual(yield* count("ev.post.published"), 1)
      assert.strictEqual(yield* count(`inbox.${author.id}`), 1, "one post_ready for the author")
    }).pipe(Effect.provide(app))
  }), { timeout: 120_000 })

it.scopedLive("a post left processing past every retry is failed by the sweep, with a dead letter and a notice", () =>
  Effect.gen(function*() {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "aperture-sweep-"))
    yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dataDir, { recursive: true, force: true })))
    const layers = Layer.mergeAll(BlobStoreLive, PostsRepo.layer).pipe(
      Layer.provideMerge(CoreLive),
      Layer.provideMerge(TestConfig({ dataDir })),
      Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
    )
    yield* Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const [user] = yield* sql<{ id: string }>`
        INSERT INTO users (username, email, password_hash) VALUES ('sweepy', 'sweepy@example.com', 'x') RETURNING id::text`
      const stale = crypto.randomUUID()
      const fresh = crypto.randomUUID()
      for (const [id, age] of [[stale, "2 days"], [fresh, "1 second"]] as const) {
        yield* sql`
          INSERT INTO posts (id, author_id, status, original_key, original_type, original_bytes, created_at)
          VALUES (${id}, ${user!.id}, 'processing', ${`orig-${id}`}, 'image/jpeg', 1, now() - ${age}::interval)`
      }
      const { sweep } = yield* MediaWorker.make
      yield* sweep
      const rows = yield* sql<{ id: string; status: string }>`SELECT id::text, status FROM posts ORDER BY created_at`
      assert.deepStrictEqual(rows.map((r) => [r.id, r.status]), [[stale, "failed"], [fresh, "processing"]])
      const [dlq] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM outbox WHERE subject = 'dlq.media.post'`
      assert.strictEqual(dlq!.n, 1)
      const [notice] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM outbox WHERE subject = ${`inbox.${user!.id}`}`
      assert.strictEqual(notice!.n, 1)
    }).pipe(Effect.provide(layers))
  }), { timeout: 60_000 })
