/**
 * Test isolation: every test layer gets its own PostgreSQL database, Redis key prefix and
 * JetStream name/subject prefix, listens on a free port, and removes all three when it is torn
 * down — so test files run in parallel, against the machine's shared services, and leave nothing.
 */
import { Effect, Layer, Redacted } from "effect"
import { Redis as IORedis } from "ioredis"
import { AppConfig, appConfig, type AppConfigShape } from "../../src/config/AppConfig.ts"
import { dropDatabase } from "../../src/db/Database.ts"
import * as Nats from "../../src/streams/Nats.ts"
import { deleteTopology } from "../../src/streams/Topology.ts"

export const uniqueId = (label = "t") =>
  `${label}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`

const withDatabase = (url: Redacted.Redacted, name: string) => {
  const u = new URL(Redacted.value(url))
  u.pathname = `/${name}`
  return Redacted.make(u.toString())
}

/** Deletes every Redis key under `prefix` (SCAN, never KEYS). */
export const purgeRedisPrefix = (url: Redacted.Redacted, prefix: string) =>
  Effect.tryPromise(async () => {
    const client = new IORedis(Redacted.value(url), { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null })
    client.on("error", () => undefined) // a stopped private Redis has nothing to clean
    await client.connect()
    try {
      let cursor = "0"
      do {
        const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500)
        cursor = next
        if (keys.length > 0) await client.del(...keys)
      } while (cursor !== "0")
    } finally {
      client.disconnect()
    }
  })

const cleanup = (config: AppConfigShape) =>
  Effect.all([
    dropDatabase(config.databaseUrl),
    purgeRedisPrefix(config.redisUrl, config.redisKeyPrefix),
    deleteTopology().pipe(
      Effect.provide(Layer.scoped(Nats.Nats, Nats.make({ url: config.natsUrl, prefix: config.natsPrefix, name: "cleanup" })))
    )
  ], { concurrency: "unbounded", mode: "either" }).pipe(Effect.asVoid)

/** An isolated configuration (defaults from the environment, then `overrides`), cleaned up on release. */
export const TestConfig = (overrides: Partial<AppConfigShape> = {}) =>
  Layer.scoped(
    AppConfig,
    Effect.gen(function*() {
      const base = yield* appConfig
      const id = uniqueId()
      const config: AppConfigShape = {
        ...base,
        nodeId: id,
        host: "127.0.0.1",
        port: 0,
        databaseUrl: withDatabase(base.databaseUrl, `aperture_${id}`),
        redisKeyPrefix: `${id}:`,
        natsPrefix: id,
        actorPartitions: 4,
        logLevel: "warning",
        ...overrides
      }
      yield* Effect.addFinalizer(() => cleanup(config).pipe(Effect.ignore))
      return config
    })
  )

const realSleep = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

/**
 * Polls `probe` (every `everyMs`, on real timers) until `done` holds or `timeoutMs` passed, and
 * returns the last value: the test's own assertions say what was expected.
 */
export const until = <A, E, R>(probe: Effect.Effect<A, E, R>, done: (a: A) => boolean, timeoutMs = 15_000, everyMs = 25) =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const value = yield* probe
      if (done(value) || Date.now() > deadline) return value
      yield* realSleep(everyMs)
    }
  })

/** `until`, failing the test with `never: <what>` when `done` never held within 30 s. */
export const eventually = <A, E, R>(probe: Effect.Effect<A, E, R>, done: (a: A) => boolean, what: string) =>
  Effect.flatMap(until(probe, done, 30_000, 100), (value) => done(value) ? Effect.succeed(value) : Effect.dieMessage(`never: ${what}`))
