/**
 * The NATS connection as a scoped resource: reconnects forever (each transition logged) and
 * drains on release so in-flight publishes and acks complete before the process exits.
 */
import { connect, type NatsConnection } from "@nats-io/transport-node"
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream"
import { Context, Data, Effect, Layer, Stream } from "effect"
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

export const make = (options: { readonly url: string; readonly prefix: string; readonly name: string }) =>
  Effect.gen(function*() {
    const connection = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () =>
          connect({
            servers: options.url,
            name: options.name,
            maxReconnectAttempts: -1,
            reconnectTimeWait: 500,
            timeout: 5000,
            waitOnFirstConnect: false
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
    yield* watchStatus(connection).pipe(Effect.forkScoped)
    const jsm = yield* Effect.tryPromise({
      try: () => jetstreamManager(connection, { timeout: 5000 }),
      catch: (cause) => new NatsError({ op: "jetstream", cause })
    })
    const js = jetstream(connection, { timeout: 5000 })
    const subject = (logical: string) => options.prefix === "" ? logical : `${options.prefix}.${logical}`
    const name = (logical: string) => options.prefix === "" ? logical : `${options.prefix}_${logical}`
    return Nats.of({ connection, js, jsm, subject, name, prefix: options.prefix })
  })

const watchStatus = (nc: NatsConnection) =>
  Stream.fromAsyncIterable(nc.status(), (cause) => new NatsError({ op: "status", cause })).pipe(
    Stream.filter((status) => status.type === "disconnect" || status.type === "reconnect" || status.type === "error"),
    Stream.runForEach((status) =>
      (status.type === "reconnect" ? Effect.logInfo("nats reconnected") : Effect.logWarning(`nats ${status.type}`)).pipe(
        Effect.annotateLogs("server", "server" in status ? String(status.server) : "")
      )
    ),
    Effect.ignore
  )

export const layer = Layer.scoped(
  Nats,
  Effect.flatMap(AppConfig, (c) => make({ url: c.natsUrl, prefix: c.natsPrefix, name: `aperture-${c.nodeId}` }))
)
