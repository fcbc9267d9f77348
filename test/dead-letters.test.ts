/**
 * Nothing is dropped silently. An EVENTS consumer whose handler keeps failing dead-letters the
 * event on its last delivery (EVENTS_MAX_DELIVER, 2 here): a row with the event, the consumer and
 * the error, a message on `dlq.ev.<consumer>`, a log line and a count; an admin lists it and
 * replays it once, and the consumer then handles it. The media worker retries a failure that is
 * not the image's (the blob store failing), and does not retry one that is.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, layer } from "@effect/vitest"
import { Effect, HashMap, Logger, Option, Redacted, Ref } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { envelopeOf, PostSaved } from "../src/domain/DomainEvents.ts"
import { EventEnvelope } from "../src/domain/Events.ts"
import { MediaJob } from "../src/domain/Media.ts"
import { PostsRepo } from "../src/db/Posts.ts"
import { BlobError, BlobStore } from "../src/media/BlobStore.ts"
import * as MediaWorker from "../src/media/MediaWorker.ts"
import { Metrics } from "../src/observability/Metrics.ts"
import { Bus, topic, type Delivery } from "../src/streams/Bus.ts"
import { consumeEnvelopes } from "../src/streams/EventConsumer.ts"
import { Nats } from "../src/streams/Nats.ts"
import { ensureConsumer, eventsConsumerSpec, StreamNames } from "../src/streams/Topology.ts"
import { request, signup, TestApp } from "./support/app.ts"
import { eventually } from "./support/harness.ts"
import { truncatedJpeg } from "./support/images.ts"

const CONSUMER = "test-always-fails"

describe("dead letters", () => {
  layer(
    TestApp({
      eventsMaxDeliver: 2,
      adminUsernames: ["dl_admin", "dl_media_admin"],
      dataDir: fs.mkdtempSync(path.join(os.tmpdir(), "aperture-dlq-")),
      media: {
        concurrency: 1,
        maxPixels: 40_000_000,
        uploadTtlSeconds: 900,
        uploadSigningKey: Redacted.make("k"),
        s3Delivery: "proxy",
        ackWaitSeconds: 30,
        retryDelaysMillis: [50, 50, 50, 50]
      }
    }),
    { timeout: "120 seconds", excludeTestServices: true }
  )((it) => {
    it.scoped("an EVENTS consumer that keeps failing dead-letters, logs and counts; an admin lists and replays it once", () =>
      Effect.gen(function*() {
        const nats = yield* Nats
        const bus = yield* Bus
        const sql = yield* SqlClient.SqlClient
        const metrics = yield* Metrics
        yield* ensureConsumer(nats, eventsConsumerSpec(CONSUMER, { filter: "ev.post.saved", ordered: false }))
        const healthy = yield* Ref.make(false)
        const seen = yield* Ref.make<ReadonlyArray<{ readonly id: string; readonly ok: boolean }>>([])
        const logged: Array<string> = []
        const capture = Logger.make(({ message, annotations }) => {
          const text = Array.isArray(message) ? message.join(" ") : String(message)
          if (text.includes("dead-lettered")) logged.push(JSON.stringify({ text, consumer: Option.getOrUndefined(HashMap.get(annotations, "consumer")) }))
        })
        yield* consumeEnvelopes(CONSUMER, 1, (event) =>
          Effect.gen(function*() {
            const ok = yield* Ref.get(healthy)
            yield* Ref.update(seen, (s) => [...s, { id: event.id, ok }])
            if (!ok) return yield* Effect.fail(new Error("the handler is broken today"))
          })).pipe(Effect.provide(Logger.add(capture)))

        // a real event that no application consumer acts on (EventRoutes.ts): only this one fails on it
        const event = envelopeOf(PostSaved.make({ postId: crypto.randomUUID(), userId: crypto.randomUUID() }), {
          id: crypto.randomUUID(),
          occurredAt: new Date().toISOString()
        })
        yield* bus.publish(topic("ev.post.saved", EventEnvelope), event, { msgId: event.id })

        const letters = sql<{ id: string; consumer: string; source: string; error: string; deliveries: number; subject: string; payload: any }>`
          SELECT id::text, consumer, source, error, deliveries, subject, payload FROM dead_letters WHERE consumer = ${CONSUMER}`.pipe(Effect.orDie)
        const [letter] = yield* eventually(letters, (rows) => rows.length === 1, "a dead letter")
        assert.strictEqual(letter!.source, "events")
        assert.strictEqual(letter!.deliveries, 2)
        assert.strictEqual(letter!.subject, "ev.post.saved")
        assert.strictEqual(letter!.payload.id, event.id)
        assert.match(letter!.error, /the handler is broken today/)
        assert.deepStrictEqual((yield* Ref.get(seen)).map((s) => s.ok), [false, false], "handled twice, then given up")

        // on its DLQ subject too, with the consumer and the error
        const dlq = yield* eventually(
          Effect.promise(() => nats.jsm.streams.info(nats.name(StreamNames.eventsDlq))),
          (info) => info.state.messages === 1,
          "the DLQ message"
        )
        assert.strictEqual(dlq.state.messages, 1)
        const stored = yield* Effect.promise(() => nats.jsm.streams.getMessage(nats.name(StreamNames.eventsDlq), { seq: dlq.state.first_seq }))
        if (stored === null) return yield* Effect.dieMessage("the DLQ message is gone")
        const body = JSON.parse(new TextDecoder().decode(stored.data))
        assert.strictEqual(stored.subject, nats.subject(`dlq.ev.${CONSUMER}`))
        assert.strictEqual(body.consumer, CONSUMER)
        assert.strictEqual(body.payload.id, event.id)
        assert.match(body.error, /broken today/)

        const rendered = yield* metrics.render
        assert.match(rendered, new RegExp(`aperture_dead_letters_total\\{stream="EVENTS",consumer="${CONSUMER}"\\} 1`))
        assert.strictEqual(logged.length, 1, logged.join("\n"))
        assert.include(logged[0]!, CONSUMER)

        // the admin API: anonymous 401, others 403, the admin sees it
        const list = `/api/v1/admin/dead-letters?consumer=${CONSUMER}`
        assert.strictEqual((yield* request(list)).status, 401)
        const someone = yield* signup()
        assert.strictEqual((yield* request(list, { headers: someone.bearer })).status, 403)
        assert.strictEqual((yield* request(`/api/v1/admin/dead-letters/${letter!.id}/replay`, { method: "POST", headers: someone.bearer })).status, 403)
        const admin = yield* signup({ username: "dl_admin" })
        const page = yield* request(list, { headers: admin.bearer })
        assert.strictEqual(page.status, 200, page.text)
        assert.strictEqual(page.json.items.length, 1)
        assert.deepInclude(page.json.items[0], { id: letter!.id, source: "events", consumer: CONSUMER, deliveries: 2, replayedAt: null })
        assert.strictEqual(page.json.items[0].payload.id, event.id)
        const bySource = yield* request("/api/v1/admin/dead-letters?source=media", { headers: admin.bearer })
        assert.isFalse(bySource.json.items.some((i: any) => i.id === letter!.id), "filtered by source")
        assert.strictEqual((yield* request("/api/v1/admin/dead-letters?limit=0", { headers: admin.bearer })).status, 400)

        // replay: the consumer gets the event again, and handles it now
        yield* Ref.set(healthy, true)
        const replayed = yield* request(`/api/v1/admin/dead-letters/${letter!.id}/replay`, { method: "POST", headers: admin.bearer })
        assert.strictEqual(replayed.status, 200, replayed.text)
        assert.isString(replayed.json.replayedAt)
        const after = yield* eventually(Ref.get(seen), (s) => s.some((x) => x.ok), "the replayed event handled")
        assert.deepStrictEqual(after.filter((x) => x.ok).map((x) => x.id), [event.id])
        const twice = yield* request(`/api/v1/admin/dead-letters/${letter!.id}/replay`, { method: "POST", headers: admin.bearer })
        assert.strictEqual(twice.status, 409, "replayed once only")
        assert.strictEqual((yield* request(`/api/v1/admin/dead-letters/999999999/replay`, { method: "POST", headers: admin.bearer })).status, 404)
        assert.strictEqual((yield* letters).length, 1, "handled this time: no new dead letter")
      }))

    it.scoped("the media worker retries a blob store failure, and fails a broken image on its first attempt", () =>
      Effect.gen(function*() {
        const store = yield* BlobStore
        const posts = yield* PostsRepo
        const sql = yield* SqlClient.SqlClient
        const author = yield* signup()
        const failures = yield* Ref.make(1)
        const flaky = {
          ...store,
          readAll: (key: string) =>
            Ref.modify(failures, (n) => [n, Math.max(0, n - 1)] as const).pipe(
              Effect.flatMap((n) => (n > 0 ? Effect.fail(new BlobError({ op: "read", key, cause: new Error("store unreachable") })) : store.readAll(key)))
            )
        }
        const { handle } = yield* MediaWorker.make.pipe(Effect.provideService(BlobStore, flaky))
        const settled: Array<string> = []
        const delivery = (job: MediaJob, deliveryCount: number): Delivery<MediaJob> => ({
          value: job,
          subject: "media.post",
          streamSequence: deliveryCount,
          deliveryCount,
          msgId: job.id,
          ack: Effect.sync(() => void settled.push(`ack ${deliveryCount}`)),
          nak: () => Effect.sync(() => void settled.push(`nak ${deliveryCount}`)),
          term: () => Effect.sync(() => void settled.push(`term ${deliveryCount}`)),
          working: Effect.void
        })
        const post = (bytes: Uint8Array) =>
          Effect.gen(function*() {
            const id = crypto.randomUUID()
            const key = `orig-${id}`
            yield* store.putBytes(key, bytes, "application/octet-stream").pipe(Effect.orDie)
            yield* posts.insert({ id, authorId: author.id, caption: "", altText: "", location: null, originalKey: key, originalType: "image/png", originalBytes: bytes.length, hashtags: [], mentions: [] })
            return new MediaJob({ kind: "post", id, key, enqueuedAt: new Date().toISOString() })
          })
        const state = (id: string) =>
          sql<{ status: string; attempts: number }>`SELECT status, attempts FROM posts WHERE id = ${id}`.pipe(Effect.map((r) => r[0]!), Effect.orDie)
        const sharp = (yield* Effect.promise(() => import("sharp"))).default
        const good = yield* post(yield* Effect.promise(() => sharp({ create: { width: 320, height: 240, channels: 3, background: "#36c" } }).png().toBuffer()))
        yield* handle(delivery(good, 1))
        assert.deepStrictEqual(settled, ["nak 1"], "a store failure is retried")
        assert.strictEqual((yield* state(good.id)).status, "processing")
        yield* handle(delivery(good, 2))
        assert.deepStrictEqual(settled, ["nak 1", "ack 2"])
        assert.deepStrictEqual(yield* state(good.id), { status: "published", attempts: 2 })

        settled.length = 0
        const broken = yield* post(yield* Effect.promise(() => truncatedJpeg()))
        yield* handle(delivery(broken, 1))
        assert.deepStrictEqual(settled, ["ack 1"], "given up at once, not naked for a retry")
        assert.deepStrictEqual(yield* state(broken.id), { status: "failed", attempts: 1 })
        const [letter] = yield* sql<{ deliveries: number; error: string }>`
          SELECT deliveries, error FROM dead_letters WHERE source = 'media' AND payload->>'id' = ${broken.id}`.pipe(Effect.orDie)
        assert.strictEqual(letter!.deliveries, 1)
        assert.match(letter!.error, /truncated/)
        const [notice] = yield* sql<{ n: number }>`
          SELECT count(*)::int AS n FROM outbox WHERE subject = ${`inbox.${author.id}`} AND payload->>'type' = 'post_failed'`.pipe(Effect.orDie)
        assert.strictEqual(notice!.n, 1, "post_failed for the author")
        assert.isTrue(Option.isSome(yield* posts.byId(broken.id)))

        // replaying a media dead letter renders the post again (on the app's own worker): still broken, so one more attempt and a new letter
        const admin = yield* signup({ username: "dl_media_admin" })
        const [media] = yield* sql<{ id: string }>`SELECT id::text FROM dead_letters WHERE source = 'media' AND payload->>'id' = ${broken.id}`.pipe(Effect.orDie)
        const replay = yield* request(`/api/v1/admin/dead-letters/${media!.id}/replay`, { method: "POST", headers: admin.bearer })
        assert.strictEqual(replay.status, 200, replay.text)
        const again = yield* eventually(state(broken.id), (s) => s.status === "failed" && s.attempts === 2, "the replayed job failed again")
        assert.deepStrictEqual(again, { status: "failed", attempts: 2 })
        const letters = yield* eventually(
          sql<{ n: number }>`SELECT count(*)::int AS n FROM dead_letters WHERE source = 'media' AND payload->>'id' = ${broken.id}`.pipe(Effect.map((r) => r[0]!.n), Effect.orDie),
          (n) => n === 2,
          "a second media dead letter"
        )
        assert.strictEqual(letters, 2)
      }))
  })
})
