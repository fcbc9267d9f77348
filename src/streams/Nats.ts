/**
 * The NATS connection as a scoped resource: reconnects forever (each transition logged) and
 * drains on release so in-flight publishes and acks complete before the process exits.
 *
 * Every JetStream request — a publish waiting for its PubAck, a direct get, a management call —
 * fails after NATS_REQUEST_TIMEOUT_MS (the clients' default; callers pass no timeout of their own),
 * so a stalled server costs a caller that long, never the whole stall.
 */
import { connect, type NatsConnection } from "@nats-io/transport-node"
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream"
import { Context, Data, Effect, Layer, Runtime } from "effect"
import { AppConfig } from "../config/AppConfig.ts"

export class NatsError extends Data.TaggedError("NatsError")<{ readonly op: string; readonly cause: unknown }> {
  override get message() {
    return `NATS ${this.op} failed: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

export interface NatsShape {
  readonly connection: NatsConnection
  readonly js: JetStreamClient
  readonly jsm: JetStreamManager
  /** Prefixes a logical subject (`ev.post.published`) with this deployment's prefix. */
  readonly subject: (logical: string) => string
  /** Prefixes a stream, consumer or bucket name. */
  readonly name: (logical: string) => string
  readonly prefix: string
}

export class Nats extends Context.Tag("Nats")<Nats, NatsShape>() {}

/** Used when a caller (a test, a CLI) does not say: the default of NATS_REQUEST_TIMEOUT_MS. */
const DEFAULT_REQUEST_TIMEOUT_MILLIS = 3000

export const make = (options: {
  readonly url: string
  readonly prefix: string
  readonly name: string
  readonly requestTimeoutMillis?: number | undefined
}) =>
  Effect.gen(function*() {
    const requestTimeoutMillis = options.requestTimeoutMillis ?? DEFAULT_REQUEST_TIMEOUT_MILLIS
    const connection = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () =>
          connect({
            servers: options.url,
            name: options.name,
            maxReconnectAttempts: -1,
            reconnectTimeWait: 500,
            timeout: 5000,
            waitOnFirstConnect: false,
            // an Error per request for async stack traces was ~9 % of the gateway's CPU
            noAsyncTraces: true
          }),
        catch: (cause) => new NatsError({ op: "connect", cause })
      }),
      (nc) =>
        Effect.promise(() => nc.isClosed() ? Promise.resolve() : nc.drain().catch(() => nc.close())).pipe(
          Effect.timeout("10 seconds"),
          Effect.ignore,
          Effect.zipRight(Effect.logInfo("nats drained"))
        )
    )
    yield* watchStatus(connection)
    const jsm = yield* Effect.tryPromise({
      try: () => jetstreamManager(connection, { timeout: requestTimeoutMillis }),
      catch: (cause) => new NatsError({ op: "jetstream", cause })
    })
    const js = jetstream(connection, { timeout: requestTimeoutMillis })
    const subject = (logical: string) => options.prefix === "" ? logical : `${options.prefix}.${logical}`
    const name = (logical: string) => options.prefix === "" ? logical : `${options.prefix}_${logical}`
    return Nats.of({ connection, js, jsm, subject, name, prefix: options.prefix })
  })

/**
 * Logs disconnects and reconnects. The status iterator never ends on its own, so it is read by a
 * detached loop and stopped on release (a fiber blocked on it could not be interrupted cleanly).
 */
const watchStatus = (nc: NatsConnection) =>
  Effect.gen(function*() {
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        const statuses = nc.status()
        void (async () => {
          for await (const status of statuses) {
            if (status.type !== "disconnect" && status.type !== "reconnect" && status.type !== "error") continue
            const server = "server" in status ? String(status.server) : ""
            runFork(
              (status.type === "reconnect" ? Effect.logInfo("nats reconnected") : Effect.logWarning(`nats ${status.type}`))
                .pipe(Effect.annotateLogs("server", server))
            )
          }
        })()
        return statuses
      }),
      (statuses) => Effect.sync(() => (statuses as { stop?: () => void }).stop?.())
    )
  })

export const layer = Layer.scoped(
  Nats,
  Effect.flatMap(AppConfig, (c) =>
    make({ url: c.natsUrl, prefix: c.natsPrefix, name: `aperture-${c.nodeId}`, requestTimeoutMillis: c.timeouts.natsRequestMillis }))
)
