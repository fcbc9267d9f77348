/**
 * Redis through ioredis, scoped (`quit` on release) and prefixed: every key this process touches
 * starts with REDIS_KEY_PREFIX, so deployments and test runs can share one server. Commands fail
 * fast while Redis is unreachable (no offline queue), so callers can fall back instead of hanging.
 */
import { Context, Effect, Layer, Redacted } from "effect"
import { Redis as IORedis } from "ioredis"
import { AppConfig } from "../config/AppConfig.ts"

export interface RedisShape {
  readonly client: IORedis
  readonly prefix: string
  /** Resolves when PONG arrives; fails (rather than waits) while Redis is down. */
  readonly ping: Effect.Effect<void, Error>
}

export class Redis extends Context.Tag("Redis")<Redis, RedisShape>() {}

export const make = (options: { readonly url: Redacted.Redacted; readonly prefix: string }) =>
  Effect.gen(function*() {
    const client = yield* Effect.acquireRelease(
      Effect.sync(() =>
        new IORedis(Redacted.value(options.url), {
          keyPrefix: options.prefix,
          lazyConnect: true,
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
          connectTimeout: 2000,
          retryStrategy: (times) => Math.min(times * 200, 2000)
        })
      ),
      (c) => Effect.promise(() => c.quit().catch(() => c.disconnect()))
    )
    let down = false
    client.on("error", () => {
      down = true
    })
    client.on("ready", () => {
      down = false
    })
    // a Redis that is down at start only degrades the derived state it holds; keep retrying
    yield* Effect.tryPromise(() => client.connect()).pipe(
      Effect.catchAll((e) => Effect.logWarning(`redis not reachable at start: ${e.message}`))
    )
    const ping = Effect.tryPromise({
      try: () => down && client.status !== "ready" ? Promise.reject(new Error("redis down")) : client.ping(),
      catch: (e) => e instanceof Error ? e : new Error(String(e))
    }).pipe(Effect.asVoid)
    return Redis.of({ client, prefix: options.prefix, ping })
  })

export const layer = Layer.scoped(
  Redis,
  Effect.flatMap(AppConfig, (c) => make({ url: c.redisUrl, prefix: c.redisKeyPrefix }))
)
