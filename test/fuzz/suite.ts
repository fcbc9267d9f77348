/** The fuzz test for one transport: a fresh isolated server, every class, and no failure allowed. */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { TestConfig } from "../support/harness.ts"
import { fuzz } from "./run.ts"
import { serverUnderFuzz, type TransportName } from "./server.ts"
import { serverSettings, settings } from "./settings.ts"

/** Generous: a failing run restarts the server after each crash (a few seconds each, capped per class). */
const timeout = settings.long ? 8 * 60 * 60 * 1000 : 15 * 60 * 1000

export const fuzzSuite = (transport: TransportName) =>
  describe(`fuzz: ${transport} transport`, () => {
    it.live(`no request gets a 5xx, kills the server or outlives its deadline; /healthz answers 200 after (${transport})`, () =>
      Effect.gen(function*() {
        const server = yield* serverUnderFuzz(transport, serverSettings, settings.appDir)
        const report = yield* Effect.promise(() => fuzz(server))
        console.log(report.text)
        assert.isAbove(report.cases, 0)
        assert.strictEqual(
          report.failures.length,
          0,
          `${report.failures.length} fuzz failures on ${transport}:\n` +
            report.failures.map((f) => `${f.kind} | ${f.class} | ${f.endpoint} | ${f.status}`).slice(0, 40).join("\n")
        )
      }).pipe(Effect.scoped, Effect.provide(Layer.fresh(TestConfig()))), { timeout })
  })
