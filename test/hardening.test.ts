/**
 * The request-handling reproductions of issue 11, on both transports: each of these once killed
 * the process, hung the connection or answered 5xx. Requests go over raw sockets where `fetch`
 * would refuse to send them.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Cause, Effect, Exit, Layer } from "effect"
import * as net from "node:net"
import { HttpListening } from "../src/http/Transport.ts"
import { PortInUse } from "../src/http/PortInUse.ts"
import { request, signup, TestApp } from "./support/app.ts"

/** These tests drive the benchmark fixtures (/system/sample, /system/echo), which exist only with BENCH_FIXTURES. */
const benchFixtures = { production: false, token: undefined, metricsPort: undefined, benchFixtures: true }

interface RawReply {
  readonly text: string
  readonly status: number
  /** The server closed the connection (rather than the client giving up). */
  readonly closedByServer: boolean
  readonly millis: number
}

/** Sends raw bytes and collects what comes back until the server closes or `waitMs` passes. */
const raw = (chunks: ReadonlyArray<string | Buffer>, waitMs = 3_000) =>
  Effect.flatMap(HttpListening, ({ port }) =>
    Effect.async<RawReply>((resume) => {
      const started = Date.now()
      const socket = net.connect(port, "127.0.0.1")
      let text = ""
      let done = false
      const finish = (closedByServer: boolean) => {
        if (done) return
        done = true
        clearTimeout(timer)
        socket.destroy()
        const m = /^HTTP\/1\.1 (\d{3})/.exec(text)
        resume(Effect.succeed({ text, status: m ? Number(m[1]) : 0, closedByServer, millis: Date.now() - started }))
      }
      const timer = setTimeout(() => finish(false), waitMs)
      socket.on("data", (d) => (text += d.toString("latin1")))
      socket.on("end", () => finish(true))
      socket.on("close", () => finish(true))
      socket.on("error", () => finish(true))
      socket.on("connect", () => {
        for (const c of chunks) socket.write(c)
      })
    })
  )

const BAD_ESCAPES = ["%E0", "%ZZ", "%FF", "abc%", "%C0%80", "%ED%A0%80"]
const deepArrays = (depth: number) => "[".repeat(depth) + "]".repeat(depth)

for (const transport of ["uws", "node"] as const) {
  describe(`request hardening on ${transport}`, () => {
    layer(TestApp({ transport, ops: benchFixtures }), { timeout: "90 seconds", excludeTestServices: true })((it) => {
      it.effect("malformed percent-encoding in a path parameter is a 400 naming it", () =>
        Effect.gen(function*() {
          for (const bad of BAD_ESCAPES) {
            for (const path of [`/api/v1/users/${bad}`, `/api/v1/posts/${bad}`, `/api/v1/users/${bad}/followers`, `/media/${bad}`]) {
              const r = yield* request(path)
              assert.strictEqual(r.status, 400, `${path}: ${r.text}`)
              assert.strictEqual(r.json.error.code, "BadRequest")
            }
          }
          assert.strictEqual((yield* request("/healthz")).status, 200)
        }))

      it.effect("JSON nested thousands deep is a 400 on every JSON route, sign-up and log-in included", () =>
        Effect.gen(function*() {
          for (const path of ["/api/v1/auth/login", "/api/v1/auth/signup", "/api/v1/system/echo"]) {
            const r = yield* request(path, { method: "POST", headers: { "content-type": "application/json" }, body: deepArrays(4_000) })
            assert.strictEqual(r.status, 400, r.text)
            assert.match(r.json.error.message, /nested deeper/)
          }
          // nesting within the limit still decodes (and fails on its shape, not its depth)
          const shallow = yield* request("/api/v1/auth/login", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: deepArrays(10)
          })
          assert.strictEqual(shallow.status, 400)
          assert.notMatch(shallow.json.error.message, /nested deeper/)
          assert.strictEqual((yield* request("/healthz")).status, 200)
        }))

      it.effect("two different Content-Length values are refused and the connection closed", () =>
        Effect.gen(function*() {
          const head = "POST /api/v1/system/echo HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n" +
            "Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}"
          const alone = yield* raw([head])
          assert.strictEqual(alone.status, 400, alone.text)
          assert.include(alone.text, "Content-Length")
          assert.isTrue(alone.closedByServer)
          // with a request smuggled behind it: refused (uWS drops such a connection without an
          // answer), and the smuggled request is never served
          const smuggled = yield* raw([head + "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"])
          assert.include([0, 400], smuggled.status, smuggled.text)
          assert.isTrue(smuggled.closedByServer)
          assert.notInclude(smuggled.text, "200 OK")
        }))

      it.effect("HEAD works wherever GET does, without a body", () =>
        Effect.gen(function*() {
          const health = yield* request("/healthz", { method: "HEAD" })
          assert.strictEqual(health.status, 200)
          assert.strictEqual(health.text, "")
          const r = yield* raw(["HEAD /api/v1/system/sample?limit=2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"])
          assert.strictEqual(r.status, 200, r.text)
          assert.match(r.text, /content-length: [1-9]\d*/i)
          assert.isTrue(r.text.endsWith("\r\n\r\n"), "no body after the head")
          const missing = yield* request("/api/v1/users/nobody-here-at-all", { method: "HEAD" })
          assert.strictEqual(missing.status, 404)
          const web = yield* request("/", { method: "HEAD" })
          assert.notStrictEqual(web.status, 404)
        }))

      it.effect("an over-long target is a 414; oversized headers are a 431", () =>
        Effect.gen(function*() {
          const long = yield* request(`/api/v1/system/sample?x=${"a".repeat(9_000)}`)
          assert.strictEqual(long.status, 414, long.text)
          assert.strictEqual(long.json.error.code, "UriTooLong")
          const big = yield* raw([`GET /healthz HTTP/1.1\r\nHost: a\r\nX-Big: ${"b".repeat(17_000)}\r\n\r\n`])
          assert.strictEqual(big.status, 431, big.text.slice(0, 200))
          assert.strictEqual((yield* request("/healthz")).status, 200)
        }))

      it.effect("malformed bodies get answers: multipart without a boundary, 5,000 parts, chunked JSON over the limit", () =>
        Effect.gen(function*() {
          const alice = yield* signup()
          const auth = `Authorization: Bearer ${alice.token}\r\n`
          const noBoundary = yield* raw([
            `POST /api/v1/posts HTTP/1.1\r\nHost: a\r\n${auth}Content-Type: multipart/form-data\r\nContent-Length: 10\r\n\r\n0123456789`
          ], 5_000)
          assert.strictEqual(noBoundary.status, 400, noBoundary.text)
          const parts = Array.from({ length: 5_000 }, (_, i) => `--b\r\nContent-Disposition: form-data; name="f${i}"\r\n\r\nx\r\n`).join("") + "--b--\r\n"
          const many = yield* raw([
            `POST /api/v1/posts HTTP/1.1\r\nHost: a\r\n${auth}Content-Type: multipart/form-data; boundary=b\r\nContent-Length: ${Buffer.byteLength(parts)}\r\n\r\n`,
            parts
          ], 5_000)
          assert.include([400, 413], many.status, many.text.slice(0, 300))
          const chunk = `{"a":"${"x".repeat(40_000)}"}`
          const chunked = yield* raw([
            "POST /api/v1/system/echo HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
            `${chunk.length.toString(16)}\r\n${chunk}\r\n`,
            `${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`
          ], 5_000)
          assert.strictEqual(chunked.status, 413, chunked.text.slice(0, 300))
          const unsized = yield* raw([
            `PUT /api/v1/uploads/${crypto.randomUUID()}?expires=1&sig=x HTTP/1.1\r\nHost: a\r\nContent-Type: application/octet-stream\r\n` +
            "Transfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n"
          ], 5_000)
          assert.strictEqual(unsized.status, 411, unsized.text.slice(0, 300))
          assert.strictEqual((yield* request("/healthz")).status, 200)
        }))

      it.effect("a connection that never finishes its request head is closed", () =>
        Effect.gen(function*() {
          const r = yield* raw(["GET /healthz HTTP/1.1\r\nHost: a\r\n"], 30_000)
          assert.isTrue(r.closedByServer, "the server closed the connection")
          // uWS's native HTTP timeout is 10 s; node's headersTimeout is set to the same
          assert.isBelow(r.millis, 25_000)
        }), { timeout: 40_000 })

      it.effect("a second server on a port in use does not start", () =>
        Effect.gen(function*() {
          const { port } = yield* HttpListening
          const exit = yield* Layer.build(TestApp({ transport, port })).pipe(Effect.scoped, Effect.exit)
          assert.isTrue(Exit.isFailure(exit))
          if (Exit.isFailure(exit)) {
            const failure = Cause.failureOption(exit.cause)
            assert.isTrue(failure._tag === "Some" && failure.value instanceof PortInUse, Cause.pretty(exit.cause))
            if (failure._tag === "Some") assert.include((failure.value as PortInUse).message, `PORT ${port}`)
          }
          assert.strictEqual((yield* request("/healthz")).status, 200)
        }), { timeout: 60_000 })
    })
  })
}
