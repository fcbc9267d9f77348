/**
 * OpenTelemetry traces end to end. An in-process OTLP/HTTP collector (JSON, POST /v1/traces)
 * receives what the app exports; a photo uploaded with a follower online must be one trace —
 * request → outbox row → relay publish → media job → `post.published` → fan-out → timeline actor
 * → socket frames (`post_ready` to the author, `feed_new` to the follower) — each hop's span a
 * descendant of the hop before it (checked by parentSpanId, not by name), and the media worker's
 * log line carrying the trace id. With tracing off (the default) no SDK is installed, no span is
 * exported, and no message or outbox row carries a trace context.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, layer } from "@effect/vitest"
import * as OtelTracer from "@effect/opentelemetry/Tracer"
import { Effect, Layer, Logger, LogLevel } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as zlib from "node:zlib"
import { afterAll } from "vitest"
import { FullNodeLive } from "../src/App.ts"
import type { AppConfigShape } from "../src/config/AppConfig.ts"
import { jsonLogger } from "../src/observability/Logging.ts"
import { Tracing } from "../src/observability/Tracing.ts"
import { Nats } from "../src/streams/Nats.ts"
import { ConsumerNames, StreamNames } from "../src/streams/Topology.ts"
import { type Account, openSocketAs, request, signup } from "./support/app.ts"
import { TestConfig, until } from "./support/harness.ts"
import { multipart, plainPng } from "./support/images.ts"

interface Span {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly name: string
  readonly kind: number
  readonly attributes: Record<string, unknown>
}

/** OTLP JSON: attribute values are `{stringValue}`, `{intValue}` (a string or a number), `{boolValue}`, `{doubleValue}`. */
const valueOf = (v: Record<string, unknown>): unknown =>
  "stringValue" in v ? v.stringValue : "intValue" in v ? Number(v.intValue) : "boolValue" in v ? v.boolValue : "doubleValue" in v ? v.doubleValue : v

/** A tiny OTLP/HTTP trace collector on a free port: every span of every export, in arrival order. */
const collector = await new Promise<{ readonly url: string; readonly spans: Array<Span>; readonly server: http.Server }>((resolve) => {
  const spans: Array<Span> = []
  const server = http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/traces") {
        res.writeHead(404).end()
        return
      }
      let body = Buffer.concat(chunks)
      if (req.headers["content-encoding"] === "gzip") body = zlib.gunzipSync(body)
      const parsed = JSON.parse(body.toString("utf8")) as { resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: Array<any> }> }> }
      for (const rs of parsed.resourceSpans ?? []) {
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            const attributes: Record<string, unknown> = {}
            for (const a of s.attributes ?? []) attributes[a.key] = valueOf(a.value)
            spans.push({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId === "" ? undefined : s.parentSpanId,
              name: s.name,
              kind: s.kind,
              attributes
            })
          }
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}")
    })
  })
  server.listen(0, "127.0.0.1", () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, spans, server }))
})
afterAll(() => new Promise<void>((resolve) => collector.server.close(() => resolve())))

/** The whole app with JSON log lines (info and up) kept in `lines`. */
const appWithLogs = (lines: Array<string>, overrides: Partial<AppConfigShape>) =>
  FullNodeLive.pipe(
    Layer.provideMerge(TestConfig({ scryptLogN: 10, ...overrides })),
    Layer.provide(Logger.replace(Logger.defaultLogger, Logger.map(jsonLogger, (line) => void lines.push(line)))),
    Layer.provide(Logger.minimumLogLevel(LogLevel.Info))
  )

const sleep = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

/** An author and an online follower; the author posts a photo; both frames arrive. */
const uploadWithFollowerOnline = (headers: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const [author, fan]: ReadonlyArray<Account> = yield* Effect.all([signup(), signup()])
    assert.isBelow((yield* request(`/api/v1/users/${author.username}/follow`, { method: "POST", headers: fan.bearer })).status, 300)
    const authorSocket = yield* openSocketAs(author)
    const fanSocket = yield* openSocketAs(fan)
    yield* authorSocket.next("hello")
    yield* fanSocket.next("hello")
    const image = yield* Effect.promise(() => plainPng(40, 40))
    const created = yield* request("/api/v1/posts", {
      method: "POST",
      headers: { ...author.bearer, ...headers },
      body: multipart(image, { caption: "traced" }, "p.png", "image/png")
    })
    assert.strictEqual(created.status, 202, created.text)
    const postId: string = created.json.postId
    const ready = yield* authorSocket.next("post_ready")
    assert.strictEqual(ready.payload.postId, postId)
    const feedNew = yield* fanSocket.next("feed_new")
    assert.strictEqual(feedNew.payload.newestPostId, postId)
    return { author, fan, postId, readySeq: ready.id as number, feedNewSeq: feedNew.id as number }
  })

/** The stored EVENTS message of `post.published` for the post, and two INBOX frames by sequence: their trace headers. */
const storedHeaders = (postId: string, inboxSeqs: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    const nats = yield* Nats
    const event = yield* Effect.promise(() =>
      nats.jsm.streams.getMessage(nats.name(StreamNames.events), { last_by_subj: nats.subject("ev.post.published") })
    )
    assert.include(event!.string(), postId)
    const frames = yield* Effect.forEach(inboxSeqs, (seq) => Effect.promise(() => nats.jsm.direct.getMessage(nats.name(StreamNames.inbox), { seq })))
    const traceparent = (h: { get(k: string): string } | undefined) => h?.get("traceparent") || undefined
    return { event: traceparent(event!.header), frames: frames.map((f) => traceparent(f!.header)) }
  })

const outboxTraceParents = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  return yield* sql<{ subject: string; traceParent: string | null }>`SELECT subject, trace_parent FROM outbox ORDER BY id`
})

const mediaJobLog = (lines: ReadonlyArray<string>, postId: string) =>
  lines.map((l) => JSON.parse(l)).find((l) => l.message === "media job done" && l.annotations?.id === postId)

describe("tracing off (the default)", () => {
  const lines: Array<string> = []
  layer(appWithLogs(lines, {}), { timeout: "120 seconds", excludeTestServices: true })((it) => {
    it.scoped("no tracer SDK, no span exported, no trace context on any message or outbox row", () =>
      Effect.gen(function*() {
        const exportedBefore = collector.spans.length
        assert.isFalse((yield* Tracing).enabled)
        assert.isTrue((yield* Effect.serviceOption(OtelTracer.OtelTracer))._tag === "None", "no OpenTelemetry tracer installed")
        const { feedNewSeq, postId, readySeq } = yield* uploadWithFollowerOnline({ traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" })
        const stored = yield* storedHeaders(postId, [readySeq, feedNewSeq])
        assert.isUndefined(stored.event)
        assert.deepStrictEqual(stored.frames, [undefined, undefined])
        const rows = yield* outboxTraceParents
        assert.isAbove(rows.length, 0)
        assert.deepStrictEqual(rows.filter((r) => r.traceParent !== null), [])
        const log = yield* until(Effect.sync(() => mediaJobLog(lines, postId)), (l) => l !== undefined, 10_000)
        assert.isDefined(log, "the media worker logged the job")
        assert.isUndefined(log.annotations.traceId)
        yield* sleep(500)
        assert.strictEqual(collector.spans.length, exportedBefore, "nothing was exported")
      }))
  })
})

describe("tracing on", () => {
  const lines: Array<string> = []
  const tracing = { endpoint: collector.url, sampleRatio: 1, exportDelayMillis: 100, serviceName: "aperture-test" }
  layer(appWithLogs(lines, { tracing }), { timeout: "120 seconds", excludeTestServices: true })((it) => {
    it.scoped("one upload is one trace, hop by hop, from the request to both sockets; the worker's log carries it", () =>
      Effect.gen(function*() {
        assert.isTrue((yield* Tracing).enabled)
        // the caller's context: the request's span must continue it
        const traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
        const callerSpan = "00f067aa0ba902b7"
        const { author, fan, feedNewSeq, postId, readySeq } = yield* uploadWithFollowerOnline({ traceparent: `00-${traceId}-${callerSpan}-01` })

        const inTrace = () => collector.spans.filter((s) => s.traceId === traceId)
        const named = (name: string, where: (s: Span) => boolean = () => true) => inTrace().filter((s) => s.name === name && where(s))
        const to = (subject: string) => (s: Span) => s.attributes["messaging.destination.name"] === subject
        const complete = () =>
          named("ws.deliver post_ready").length > 0 && named("ws.deliver feed_new").length > 0 && named("actor timeline").length > 0 &&
          named("outbox.publish").length >= 3 && named("media.job").length > 0 && named("fanout").length > 0
        yield* until(Effect.sync(complete), (done) => done, 20_000, 50)
        assert.isTrue(complete(), `spans of the trace: ${inTrace().map((s) => s.name).join(", ")}`)

        const one = (name: string, where?: (s: Span) => boolean) => {
          const found = named(name, where)
          assert.strictEqual(found.length, 1, `one ${name} span (got ${found.length})`)
          return found[0]!
        }
        const byId = new Map(inTrace().map((s) => [s.spanId, s]))
        const HOPS = new Set(["Outbox.append", "Outbox.appendMessage", "outbox.publish", "media.job", "event post.published", "fanout", "actor timeline"])
        /** The nearest ancestor that is a hop (or the request span): spans of Effect.fn and SQL may lie between. */
        const hopAbove = (span: Span): Span | undefined => {
          let at = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId)
          while (at !== undefined && !HOPS.has(at.name) && !at.name.startsWith("http ")) at = at.parentSpanId === undefined ? undefined : byId.get(at.parentSpanId)
          return at
        }
        const assertHop = (child: Span, parent: Span, direct = false) => {
          if (direct) assert.strictEqual(child.parentSpanId, parent.spanId, `${child.name} is a child of ${parent.name}`)
          else assert.strictEqual(hopAbove(child)?.spanId, parent.spanId, `${child.name} comes from ${parent.name}`)
        }

        // the request, continuing the caller's context
        const request = one("http POST /api/v1/posts")
        assert.strictEqual(request.parentSpanId, callerSpan)
        assert.strictEqual(request.kind, 2, "a server span")
        // → the media job's outbox row → its publish → the worker
        const jobRow = one("Outbox.appendMessage", to("media.post"))
        assertHop(jobRow, request)
        assert.strictEqual(jobRow.attributes["outbox.message_id"], postId)
        const jobPublish = one("outbox.publish", to("media.post"))
        assertHop(jobPublish, jobRow, true)
        assert.isNumber(jobPublish.attributes["jetstream.sequence"])
        const job = one("media.job")
        assertHop(job, jobPublish, true)
        assert.strictEqual(job.attributes["post.id"], postId)
        // → post.published → the fan-out consumer → fan-out → the timeline actors
        const eventRow = one("Outbox.append", to("ev.post.published"))
        assertHop(eventRow, job)
        const eventPublish = one("outbox.publish", to("ev.post.published"))
        assertHop(eventPublish, eventRow, true)
        const consumed = one("event post.published", (s) => s.attributes["messaging.consumer.group.name"] === ConsumerNames.timelineFanout)
        assertHop(consumed, eventPublish, true)
        const fanout = one("fanout")
        assertHop(fanout, consumed)
        assert.strictEqual(fanout.attributes["post.id"], postId)
        const actors = named("actor timeline")
        for (const actor of actors) {
          assertHop(actor, fanout)
          assert.isNumber(actor.attributes["actor.partition"])
          assert.isNumber(actor.attributes["actor.epoch"])
        }
        // → the author's post_ready through the outbox; the follower's feed_new from the timeline actor
        const readyRow = one("Outbox.appendMessage", to(`inbox.${author.id}`))
        assertHop(readyRow, job)
        const readyPublish = one("outbox.publish", to(`inbox.${author.id}`))
        assertHop(readyPublish, readyRow, true)
        const readyDelivered = one("ws.deliver post_ready")
        assertHop(readyDelivered, readyPublish, true)
        assert.strictEqual(readyDelivered.attributes["inbox.seq"], readySeq)
        // (the author is online too, and gets a feed_new of their own)
        const feedNewDelivered = one("ws.deliver feed_new", (s) => s.attributes["user.id"] === fan.id)
        assert.include(actors.map((a) => a.spanId), hopAbove(feedNewDelivered)?.spanId, "feed_new comes from a timeline actor's span")
        assert.strictEqual(feedNewDelivered.attributes["inbox.seq"], feedNewSeq)

        // what travelled: the stored event and frames carry the span that published them
        const stored = yield* storedHeaders(postId, [readySeq, feedNewSeq])
        assert.strictEqual(stored.event, `00-${traceId}-${eventPublish.spanId}-01`)
        assert.strictEqual(stored.frames[0], `00-${traceId}-${readyPublish.spanId}-01`)
        assert.match(stored.frames[1]!, new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`))
        const rows = yield* outboxTraceParents
        assert.strictEqual(rows.find((r) => r.subject === "media.post")?.traceParent, `00-${traceId}-${jobRow.spanId}-01`)

        // the worker's log line leads to the trace, and to the job's span
        const log = mediaJobLog(lines, postId)
        assert.isDefined(log, "the media worker logged the job")
        assert.strictEqual(log.annotations.traceId, traceId)
        assert.strictEqual(log.annotations.spanId, job.spanId)
      }))
  })
})
