/**
 * Readiness: PostgreSQL, Redis and NATS each checked with a short timeout, concurrently, so a
 * dependency that hangs cannot hang `/readyz`.
 */
import { SqlClient } from "@effect/sql"
import { Context, Duration, Effect, Layer } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { Redis } from "../redis/Redis.ts"
import { Nats } from "../streams/Nats.ts"

export type DependencyState = "up" | "down"

export class Probes extends Context.Tag("Probes")<Probes, {
  readonly check: Effect.Effect<Readonly<Record<"postgres" | "redis" | "nats", DependencyState>>>
  readonly startedAt: number
}>() {}

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const sql = yield* SqlClient.SqlClient
  const redis = yield* Redis
  const nats = yield* Nats
  const timeout = Duration.millis(config.readyTimeoutMillis)
  const probe = (effect: Effect.Effect<unknown, unknown>) =>
    effect.pipe(
      Effect.timeoutFail({ duration: timeout, onTimeout: () => "timeout" }),
      Effect.match({ onFailure: (): DependencyState => "down", onSuccess: (): DependencyState => "up" })
    )
  const check = Effect.all({
    postgres: probe(sql`SELECT 1`),
    redis: probe(redis.ping),
    nats: probe(
      Effect.tryPromise(() =>
        nats.connection.isClosed() ? Promise.reject(new Error("closed")) : nats.connection.flush()
      )
    )
  }, { concurrency: "unbounded" })
  return Probes.of({ check, startedAt: Date.now() })
})

export const layer = Layer.effect(Probes, make)
