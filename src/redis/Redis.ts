/**
 * Redis through ioredis, scoped (`quit` on release) and prefixed: every key this process touches
 * starts with REDIS_KEY_PREFIX, so deployments and test runs can share one server.
 *
 * Every command is bounded. While Redis is unreachable commands fail at once (no offline queue, one
 * try); while it is reachable but does not answer (stopped, overloaded, a silent network) a command
 * fails after REDIS_COMMAND_TIMEOUT_MS — the connection looks healthy then, so only a timeout can
 * tell. Either way callers get an error in bounded time and fall back, or answer 503.
 */
import { Context, Data, Effect, Layer, Redacted } from "effect"
import { Redis as IORedis } from "ioredis"
import { AppConfig } from "../config/AppConfig.ts"

/** A Redis command failed: unreachable, timed out, or refused. Callers fall back or answer 503. */
export class RedisError extends Data.TaggedError("RedisError")<{ readonly op: string; readonly cause: unknown }> {
  override get message() {
    return `Redis ${this.op} failed: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

export interface RedisShape {
  readonly client: IORedis
  readonly prefix: string
  /** Resolves when PONG arrives; fails (rather than waits) while Redis is down or stalled. */
  readonly ping: Effect.Effect<void, Error>
  /** Runs one client call, its failure (a timeout included) as a `RedisError`. */
  readonly call: <A>(op: string, f: (client: IORedis) => Promise<A>) => Effect.Effect<A, RedisError>
}

export class Redis extends Context.Tag("Redis")<Redis, RedisShape>() {}

/** Used when a caller (a test) does not say: the default of REDIS_COMMAND_TIMEOUT_MS. */
const DEFAULT_COMMAND_TIMEOUT_MILLIS = 1500

export const make = (options: {
  readonly url: Redacted.Redacted
  readonly prefix: string
  readonly commandTimeoutMillis?: number | undefined
}) =>
  Effect.gen(function*() {
    const client = yield* Effect.acquireRelease(
      Effect.sync(() =>
        new IORedis(Redacted.value(options.url), {
          keyPrefix: options.prefix,
          lazyConnect: true,
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
          connectTimeout: 2000,
          commandTimeout: options.commandTimeoutMillis ?? DEFAULT_COMMAND_TIMEOUT_MILLIS,
          retryStrategy: (times) => Math.min(times * 200, 2000)
        })
      ),
      // QUIT to a stalled server fails after the command timeout; then the socket is cut
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
    const call = <A>(op: string, f: (client: IORedis) => Promise<A>) =>
      Effect.tryPromise({ try: () => f(client), catch: (cause) => new RedisError({ op, cause }) })
    const ping = Effect.tryPromise({
      try: () => down && client.status !== "ready" ? Promise.reject(new Error("redis down")) : client.ping(),
      catch: (e) => e instanceof Error ? e : new Error(String(e))
    }).pipe(Effect.asVoid)
    return Redis.of({ client, prefix: options.prefix, ping, call })
  })

export const layer = Layer.scoped(
  Redis,
  Effect.flatMap(AppConfig, (c) => make({ url: c.redisUrl, prefix: c.redisKeyPrefix, commandTimeoutMillis: c.timeouts.redisCommandMillis }))
)
