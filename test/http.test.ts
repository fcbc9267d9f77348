/**
 * The contract as a client sees it, on both transports: the same requests must get the same
 * answers from uWS and from the standard node transport.
 */
import { assert, describe, layer } from "@effect/vitest"
import { FetchHttpClient, HttpApiClient } from "@effect/platform"
import { Effect } from "effect"
import { Api } from "../src/domain/Api.ts"
import { docsScript } from "../src/http/Docs.ts"
import { baseUrl, openSocketAs, request, signup, TestApp } from "./support/app.ts"

/** These tests drive the benchmark fixtures (/system/sample, /system/echo), which exist only with BENCH_FIXTURES. */
const benchFixtures = { production: false, token: undefined, metricsPort: undefined, benchFixtures: true }

const json = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: typeof body === "string" ? body : JSON.stringify(body)
})

for (const transport of ["uws", "node"] as const) {
  describe(`HTTP on ${transport}`, () => {
    layer(TestApp({ transport, ops: benchFixtures }), { timeout: "60 seconds", excludeTestServices: true })((it) => {
      it.effect("healthz and readyz answer 200 with every dependency up", () =>
        Effect.gen(function*() {
          const health = yield* request("/healthz")
          assert.strictEqual(health.status, 200)
          assert.strictEqual(health.json.status, "ok")
          const ready = yield* request("/readyz")
          assert.strictEqual(ready.status, 200)
          assert.deepStrictEqual(ready.json.checks, { postgres: "up", redis: "up", nats: "up" })
        }))

      it.effect("serves a JSON route with its query decoded by the contract", () =>
        Effect.gen(function*() {
          const r = yield* request("/api/v1/system/sample?limit=3")
          assert.strictEqual(r.status, 200)
          assert.match(r.headers.get("content-type") ?? "", /application\/json/)
          assert.strictEqual(r.json.items.length, 3)
          assert.strictEqual(r.json.hasMore, true)
          const info = yield* request("/api/v1/system/info")
          assert.strictEqual(info.json.transport, transport)
        }))

      it.effect("the typed client generated from the contract calls the server", () =>
        Effect.gen(function*() {
          const client = yield* HttpApiClient.make(Api, { baseUrl: yield* baseUrl })
          const list = yield* client.system.sample({ urlParams: { limit: 2 } })
          assert.deepStrictEqual(list.items.map((i) => i.rank), [1, 2])
          const echoed = yield* client.system.echo({ payload: { message: "typed" } })
          assert.strictEqual(echoed.message, "typed")
        }).pipe(Effect.provide(FetchHttpClient.layer)))

      it.effect("a query that does not decode is a 400 naming the field", () =>
        Effect.gen(function*() {
          const r = yield* request("/api/v1/system/sample?limit=500")
          assert.strictEqual(r.status, 400)
          assert.strictEqual(r.json.error.code, "BadRequest")
          assert.deepStrictEqual(r.json.error.details[0].path, ["limit"])
        }))

      it.effect("echoes a valid body and refuses one that fails its schema with 400", () =>
        Effect.gen(function*() {
          const ok = yield* request("/api/v1/system/echo", json({ message: "hello", count: 2 }))
          assert.strictEqual(ok.status, 200)
          assert.deepStrictEqual(ok.json, { message: "hello", count: 2 })
          const bad = yield* request("/api/v1/system/echo", json({ message: "" }))
          assert.strictEqual(bad.status, 400)
          assert.deepStrictEqual(bad.json.error.details[0].path, ["message"])
        }))

      it.effect("malformed JSON is a 400, not a 500", () =>
        Effect.gen(function*() {
          const r = yield* request("/api/v1/system/echo", json("{\"message\": "))
          assert.strictEqual(r.status, 400)
          assert.deepStrictEqual(r.json, { error: { code: "BadRequest", message: "body is not valid JSON" } })
        }))

      it.effect("a 2 MB body on a small-body route is a 413", () =>
        Effect.gen(function*() {
          const big = JSON.stringify({ message: "x".repeat(2 * 1024 * 1024) })
          const r = yield* request("/api/v1/system/echo", json(big))
          assert.strictEqual(r.status, 413)
          assert.strictEqual(r.json.error.code, "PayloadTooLarge")
        }))

      it.effect("a body of the wrong content type is a 415", () =>
        Effect.gen(function*() {
          const r = yield* request("/api/v1/system/echo", {
            method: "POST",
            headers: { "content-type": "text/plain" },
            body: "hello"
          })
          assert.strictEqual(r.status, 415)
          assert.strictEqual(r.json.error.code, "UnsupportedMediaType")
        }))

      it.effect("wrong method is a 405 with Allow; unknown path is a 404", () =>
        Effect.gen(function*() {
          const wrong = yield* request("/api/v1/system/echo", { method: "GET" })
          assert.strictEqual(wrong.status, 405)
          assert.strictEqual(wrong.headers.get("allow"), "POST")
          assert.strictEqual(wrong.json.error.code, "MethodNotAllowed")
          const unknown = yield* request("/api/v1/nothing/here")
          assert.strictEqual(unknown.status, 404)
          assert.strictEqual(unknown.json.error.code, "NotFound")
        }))

      it.effect("every response carries a request id; a sane caller id is kept", () =>
        Effect.gen(function*() {
          const own = yield* request("/healthz", { headers: { "x-request-id": "caller-12345678" } })
          assert.strictEqual(own.headers.get("x-request-id"), "caller-12345678")
          const made = yield* request("/healthz", { headers: { "x-request-id": "bad id" } })
          assert.match(made.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/)
        }))

      it.effect("OpenAPI document and docs page come from the contract", () =>
        Effect.gen(function*() {
          const spec = yield* request("/api/v1/openapi.json")
          assert.strictEqual(spec.status, 200)
          assert.strictEqual(spec.json.openapi, "3.1.0")
          assert.property(spec.json.paths, "/api/v1/system/sample")
          assert.property(spec.json.paths["/api/v1/system/echo"].post.responses, "413")
          const docs = yield* request("/docs")
          assert.strictEqual(docs.status, 200)
          assert.include(docs.text, "/api/v1/openapi.json")
          // megabytes: written with backpressure, and must arrive whole
          const script = yield* request("/docs/scalar.js")
          assert.strictEqual(script.status, 200)
          assert.strictEqual(script.text, docsScript())
        }))

      it.effect("metrics expose request durations by route and status, process metrics and the outbox backlog", () =>
        Effect.gen(function*() {
          yield* request("/api/v1/system/sample")
          const m = yield* request("/metrics")
          assert.strictEqual(m.status, 200)
          assert.match(m.headers.get("content-type") ?? "", /text\/plain/)
          assert.match(m.text, /aperture_http_request_duration_seconds_count\{route="\/api\/v1\/system\/sample",method="GET",status="200"\} \d+/)
          assert.include(m.text, "aperture_nodejs_eventloop_lag_seconds")
          assert.include(m.text, "aperture_process_resident_memory_bytes")
          assert.match(m.text, /aperture_outbox_backlog \d+/)
        }))

      it.scoped("/ws greets with hello and answers ping", () =>
        Effect.gen(function*() {
          const account = yield* signup()
          const socket = yield* openSocketAs(account)
          const hello = yield* socket.next("hello")
          assert.strictEqual(hello.payload.userId, account.id)
          assert.strictEqual(typeof hello.ts, "string")
          assert.strictEqual(hello.id, null)
          assert.strictEqual(hello.payload.inboxSeq, 0)
          socket.send({ type: "ping" })
          const pong = yield* socket.next("pong")
          assert.strictEqual(pong.type, "pong")
        }))

      it.scoped("/ws answers bad frames with error frames and closes repeated abuse with 1008", () =>
        Effect.gen(function*() {
          const socket = yield* openSocketAs(yield* signup())
          yield* socket.next("hello")
          socket.send("not json")
          const error = yield* socket.next("error")
          assert.strictEqual(error.payload.code, "BadFrame")
          for (let i = 0; i < 5; i++) socket.send({ type: "nonsense" })
          const closed = yield* socket.waitClosed()
          assert.strictEqual(closed.code, 1008)
        }))

      it.scoped("/ws closes a frame over the size limit with 1009", () =>
        Effect.gen(function*() {
          const socket = yield* openSocketAs(yield* signup())
          yield* socket.next("hello")
          socket.send({ type: "ping", payload: "x".repeat(20 * 1024) })
          const closed = yield* socket.waitClosed()
          assert.strictEqual(closed.code, 1009)
        }))
    })
  })
}
