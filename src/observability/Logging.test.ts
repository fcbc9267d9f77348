import { assert, it } from "@effect/vitest"
import { Effect, Logger } from "effect"
import { jsonLogger } from "./Logging.ts"
import { RequestContext } from "./RequestContext.ts"
import { disabled, Tracing } from "./Tracing.ts"

it.effect("log lines written while serving a request carry its request id; others do not", () =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const capture = Logger.replace(Logger.defaultLogger, Logger.map(jsonLogger, (line) => void lines.push(line)))
    yield* Effect.logWarning("inside").pipe(
      Effect.provideService(RequestContext, {
        requestId: "req-12345678",
        method: "GET",
        path: "/x",
        headers: {},
        remoteAddress: "127.0.0.1",
        responseHeaders: []
      }),
      Effect.provide(capture)
    )
    yield* Effect.logWarning("outside").pipe(Effect.provide(capture))
    const [inside, outside] = lines.map((l) => JSON.parse(l))
    assert.strictEqual(inside.message, "inside")
    assert.strictEqual(inside.annotations.requestId, "req-12345678")
    assert.strictEqual(outside.annotations.requestId, undefined)
  }))

it.effect("with tracing on, a line logged inside a span carries its trace and span ids; off, none", () =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const capture = Logger.replace(Logger.defaultLogger, Logger.map(jsonLogger, (line) => void lines.push(line)))
    const inSpan = Effect.flatMap(Effect.currentSpan, (span) => Effect.as(Effect.logWarning("traced"), span)).pipe(Effect.withSpan("work"))
    const span = yield* inSpan.pipe(Effect.provideService(Tracing, { ...disabled, enabled: true }), Effect.provide(capture))
    yield* inSpan.pipe(Effect.provide(capture))
    const [on, off] = lines.map((l) => JSON.parse(l))
    assert.strictEqual(on.annotations.traceId, span.traceId)
    assert.strictEqual(on.annotations.spanId, span.spanId)
    assert.strictEqual(off.annotations.traceId, undefined)
  }))
