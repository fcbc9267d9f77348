/**
 * The server as an operator runs it: a bad setting stops start-up naming the variable; SIGTERM
 * drains and exits 0 on both transports, logging JSON; and the same server boots under Deno.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { Effect, Layer, Redacted } from "effect"
import { AppConfig, appConfig } from "../src/config/AppConfig.ts"
import { TestConfig } from "./support/harness.ts"
import { freePort } from "./support/servers.ts"

interface Run {
  readonly code: number | null
  readonly output: string
}

const run = (command: string, args: Array<string>, env: Record<string, string>, onStart?: (port: number) => Promise<void>) =>
  Effect.async<Run>((resume) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (d) => (output += d))
    child.stderr.on("data", (d) => (output += d))
    child.on("exit", (code) => resume(Effect.succeed({ code, output })))
    if (onStart) {
      void onStart(Number(env.PORT)).finally(() => child.kill("SIGTERM"))
    }
  })

const waitHealthy = async (port: number) => {
  for (let i = 0; i < 300; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`)
      if (res.status === 200) return
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error("server did not become ready")
}

/** Environment of an isolated server process; the TestConfig layer cleans its data up. */
const isolatedEnv = Effect.gen(function*() {
  const c = yield* AppConfig
  const port = yield* freePort
  return {
    PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_URL: Redacted.value(c.databaseUrl),
    REDIS_KEY_PREFIX: c.redisKeyPrefix,
    NATS_PREFIX: c.natsPrefix,
    ACTOR_PARTITIONS: "4",
    LOG_LEVEL: "info"
  }
})

const node = ["--import", "tsx", "src/main.ts"]

describe("process", () => {
  it.live("a bad setting stops start-up with a message naming the variable", () =>
    Effect.gen(function*() {
      const port = yield* run("node", node, { PORT: "eighty" })
      assert.notStrictEqual(port.code, 0)
      assert.include(port.output, "PORT")
      const roles = yield* run("node", node, { ROLES: "api,dancer" })
      assert.notStrictEqual(roles.code, 0)
      assert.include(roles.output, "ROLES")
      assert.notInclude(roles.output, "minioadmin")
    }), { timeout: 60_000 })

  it.live("the redacted configuration never prints secrets", () =>
    Effect.gen(function*() {
      const c = yield* appConfig
      assert.strictEqual(String(c.s3.secretKey), "<redacted>")
    }))

  for (const transport of ["uws", "node"] as const) {
    it.live(`SIGTERM drains and exits 0 on ${transport}, with JSON logs`, () =>
      Effect.gen(function*() {
        const env = yield* isolatedEnv
        let served = 0
        const result = yield* run("node", node, { ...env, HTTP_TRANSPORT: transport }, async (port) => {
          await waitHealthy(port)
          served = (await fetch(`http://127.0.0.1:${port}/healthz`)).status
        })
        assert.strictEqual(served, 200)
        assert.strictEqual(result.code, 0, result.output)
        const lines = result.output.trim().split("\n").filter((l) => l.startsWith("{"))
        const messages = lines.map((l) => JSON.parse(l).message as string)
        assert.include(messages, `listening on http://127.0.0.1:${env.PORT} (${transport})`)
        assert.include(messages, "nats drained")
      }).pipe(Effect.provide(Layer.fresh(TestConfig()))), { timeout: 90_000 })
  }

  it.live("deno task smoke boots the server under Deno and gets 200 from /healthz and /readyz", () =>
    Effect.gen(function*() {
      const env = yield* isolatedEnv
      const result = yield* run("npx", ["deno", "task", "smoke"], { ...env, SMOKE_PORT: env.PORT })
      assert.strictEqual(result.code, 0, result.output)
      assert.include(result.output, "deno smoke ok")
    }).pipe(Effect.provide(Layer.fresh(TestConfig()))), { timeout: 120_000 })
})
